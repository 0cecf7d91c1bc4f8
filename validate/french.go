package validate

import "fmt"

// french is each message of a violation in French, by its English format:
// the API gives it as the violation's localized message to a client that
// asks for French (the web pages of a French reader). The arguments are
// the English message's, in its order (%[n] where French says them in
// another); what they say themselves (a vocabulary, a parser's error)
// stays as it is.
var french = map[string]string{
	// Every field.
	"is not valid UTF-8":                    "n’est pas de l’UTF-8 valide",
	"is required":                           "est obligatoire",
	"is required: it holds nothing visible": "est obligatoire : il ne contient rien de visible",
	"is %d characters long, more than %d":   "compte %d caractères, plus que %d",
	"contains control characters":           "contient des caractères de contrôle",
	"is %d bytes long, more than %d":        "fait %d octets, plus que %d",
	"has %d items, more than %d":            "a %d éléments, plus que %d",
	"%q is listed twice":                    "%q figure deux fois",
	"is empty":                              "est vide",
	"%d is not a value of %s":               "%d n’est pas une valeur de %s",
	"%q is not one of %s":                   "%q n’est pas l’une des valeurs %s",

	// URLs, languages, dates.
	"%q is not an http or https URL":                                            "%q n’est pas une URL http ou https",
	"%q has port %s, not one from 1 to 65535":                                   "%q a le port %s, qui n’est pas entre 1 et 65535",
	"%q carries a user name or password: a published URL must not":              "%q contient un nom d’utilisateur ou un mot de passe, ce que ne doit pas faire une URL publiée",
	"is %d bytes long, more than %d: no language tag is so long":                "fait %d octets, plus que %d : aucune étiquette de langue n’est si longue",
	"%q is not a BCP 47 language tag (such as en, fr or pt-BR)":                 "%q n’est pas une étiquette de langue BCP 47 (comme en, fr ou pt-BR)",
	"%q is not written as a BCP 47 language tag: write it %q":                   "%q n’est pas écrit comme une étiquette de langue BCP 47 : écrivez %q",
	"%q is not a date of the form %s":                                           "%q n’est pas une date de la forme %s",
	"is not a time between the years 1 and 9999: %v":                            "n’est pas un instant entre les années 1 et 9999 : %v",
	"is the language of descriptions.%s too: a language tag is one in any case": "est aussi la langue de descriptions.%s : une étiquette de langue est la même en majuscules ou en minuscules",

	// Tools.
	"is %d bytes once encoded, more than %d: shorten its descriptions or features":               "fait %d octets une fois encodé, plus que %d : raccourcissez ses descriptions ou fonctionnalités",
	"is required: describe the tool in at least one language":                                    "est obligatoire : décrivez l’outil dans une langue au moins",
	"the expression is %d bytes long, more than %d":                                              "l’expression fait %d octets, plus que %d",
	"%q is not a valid SPDX license expression: %v":                                              "%q n’est pas une expression de licence SPDX valide : %v",
	"%q is not a publiccode.yml category":                                                        "%q n’est pas une catégorie de publiccode.yml",
	"%q is not a platform: use web, windows, mac, linux, ios, android or another lowercase word": "%q n’est pas une plateforme : utilisez web, windows, mac, linux, ios, android ou un autre mot en minuscules",
	"is %d bytes long, more than %d: no e-mail address is so long":                               "fait %d octets, plus que %d : aucune adresse électronique n’est si longue",
	"is not an e-mail address (one of the form name@example.org)":                                "n’est pas une adresse électronique (de la forme nom@exemple.org)",
	"%q is not an absolute URI":                                                                  "%q n’est pas une URI absolue",
	"%q carries a user name or password: a published URI must not":                               "%q contient un nom d’utilisateur ou un mot de passe, ce que ne doit pas faire une URI publiée",

	// Use cases.
	"is required: a tool's resource name (origins/fr/tools/decidim) or its repository or landing URL": "est obligatoire : le nom de ressource d’un outil (origins/fr/tools/decidim) ou l’URL de son dépôt ou de son site",
	"%q is not a tool name of the form origins/{origin}/tools/{tool}":                                 "%q n’est pas un nom d’outil de la forme origins/{origin}/tools/{tool}",
	"%q is not an ISO 3166-1 alpha-2 country code (such as FR)":                                       "%q n’est pas un code de pays ISO 3166-1 alpha-2 (comme FR)",
	"%q is not the ISO 3166-1 code of the country: write %q":                                          "%q n’est pas le code ISO 3166-1 du pays : écrivez %q",
	"%q is not an OGP commitment id (such as FR0034)":                                                 "%q n’est pas un identifiant d’engagement OGP (comme FR0034)",

	// Requests (package node).
	"%q is not a criterion: use %s":                                                                                  "%q n’est pas un critère : utilisez %s",
	"%q names no language: give a BCP 47 language tag (en, pt-BR)":                                                   "%q ne désigne aucune langue : donnez une étiquette de langue BCP 47 (en, pt-BR)",
	"%s is no kind of organisation: every use case has one":                                                          "%s n’est pas un type d’organisation : tout cas d’usage en a un",
	"does not decode as a %s: %s":                                                                                    "ne se décode pas comme un %s : %s",
	"has %d values: a query takes at most %d a filter":                                                               "a %d valeurs : une recherche en prend au plus %d par filtre",
	"is %d bytes, more than the %d this node takes":                                                                  "fait %d octets, plus que les %d que ce nœud accepte",
	"is more than the %d bytes this node takes":                                                                      "fait plus que les %d octets que ce nœud accepte",
	"is required: part %d holds none":                                                                                "est obligatoire : la partie %d n’en contient pas",
	"is required: the stream sent no part":                                                                           "est obligatoire : le flux n’a envoyé aucune partie",
	"is taken from the first part only, and part %d sets it":                                                         "n’est pris que de la première partie, et la partie %d le donne",
	"part %d is %d bytes, more than the %d this node takes of a request":                                             "la partie %d fait %d octets, plus que les %d que ce nœud accepte d’une requête",
	"the parts come to more than the %d bytes this node takes of a harvest import (--max-harvest-bytes), at part %d": "les parties dépassent les %d octets que ce nœud accepte d’un import de moissonnage (--max-harvest-bytes), à la partie %[2]d",
	"is the harvest's: the provenance of a harvested tool (source %q, entry %q) cannot be changed through the API":   "est celle du moissonnage : la provenance d’un outil moissonné (source %q, entrée %q) ne peut être modifiée par l’API",
	"is %d bytes, more than the %d the gRPC port takes of a request: send it in parts (ImportHarvestInParts), or over REST (POST /v1/harvests:import, as ogpnode harvest --node does), which take up to %d (--max-harvest-bytes)": "fait %d octets, plus que les %d que le port gRPC accepte d’une requête : envoyez-la en parties (ImportHarvestInParts), ou par REST (POST /v1/harvests:import, comme le fait ogpnode harvest --node), qui acceptent jusqu’à %d (--max-harvest-bytes)",
	"%q is not an id: 1 to 63 lowercase letters, digits and hyphens, starting with a letter": "%q n’est pas un identifiant : de 1 à 63 lettres minuscules, chiffres et traits d’union, commençant par une lettre",
	"%d is negative":          "%d est négatif",
	"relevance needs a query": "l’ordre par pertinence demande une recherche",
	"%q is not an order: use relevance, create_time or update_time (or display_name or score for tools), optionally followed by desc": "%q n’est pas un ordre : utilisez relevance, create_time ou update_time (ou display_name ou score pour les outils), suivi de desc si besoin",
}

// Localized is the violation's message in the language lang names ("fr"),
// if it has one there; English is its Description.
func (v Violation) Localized(lang string) (string, bool) {
	if lang != "fr" || v.format == "" {
		return "", false
	}
	f, ok := french[v.format]
	if !ok {
		return "", false
	}
	return fmt.Sprintf(f, v.args...), true
}
