package publiccode

import "slices"

// Constant tables of the standard and of the registries it refers to.

// Versions of the standard the reader takes, as the reference parser does.
// "0" always means the latest 0.x; the reference takes no 0.1 nor 0.6.
var supportedVersions = [...]string{"0", "0.2", "0.2.0", "0.2.1", "0.2.2", "0.3", "0.3.0", "0.4", "0.4.0", "0.5", "0.5.0", "0.7", "0.7.0"}

// latestVersions are the ones that do not get a warning.
var latestVersions = [...]string{"0", "0.7", "0.7.0"}

// scopes is the standard's scope list (intendedAudience.scope).
var scopes = [...]string{
	"agriculture", "culture", "defence", "education", "emergency-services",
	"employment", "energy", "environment", "finance-and-economic-development",
	"foreign-affairs", "government", "healthcare", "infrastructures", "justice",
	"local-authorities", "manufacturing", "research", "science-and-technology",
	"security", "society", "sport", "tourism", "transportation", "welfare",
}

// iso3166 holds the 249 ISO 3166-1 alpha-2 country codes, three bytes
// apart. golang.org/x/text knows more regions (exceptional and withdrawn
// codes such as UK, EU or YU) than the standard allows.
const iso3166 = "" +
	"AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ " +
	"BL BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR " +
	"CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR " +
	"GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU " +
	"ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ " +
	"LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ " +
	"MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF " +
	"PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI " +
	"SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR " +
	"TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW"

// aliases are the names the standard gives to what a tool may support
// (supports[].id = "alias:NAME"), with the phrase the catalog's standards
// list shows for each. The Italian section's platform flags (spid, cie,
// anpr, pagopa, io) and its gdpr flag are the deprecated forms of the same
// aliases, and map to the same phrases.
var aliases = [...]struct{ name, phrase string }{
	{"gdpr", "GDPR"},
	{"eidas", "eIDAS"},
	{"nis2", "NIS2"},
	{"cra", "Cyber Resilience Act"},
	{"spid", "SPID"},
	{"cie", "CIE"},
	{"anpr", "ANPR"},
	{"pagopa", "pagoPA"},
	{"io", "IO app"},
}

// aliasName returns the phrase of a known alias.
func aliasName(name string) (string, bool) {
	for _, a := range aliases {
		if a.name == name {
			return a.phrase, true
		}
	}
	return "", false
}

// aliasList lists the aliases as they are written in a file.
func aliasList() []string {
	out := make([]string, 0, len(aliases))
	for _, a := range aliases {
		out = append(out, "alias:"+a.name)
	}
	return out
}

// m49 are the UN M.49 area codes that BCP 47 takes as regions (those in
// the IANA language subtag registry).
var m49 = [...]string{
	"001", "002", "003", "005", "009", "011", "013", "014", "015", "017", "018",
	"019", "021", "029", "030", "034", "035", "039", "053", "054", "057", "061",
	"142", "143", "145", "150", "151", "154", "155", "202", "419",
}

func isM49(s string) bool { return slices.Contains(m49[:], s) }

// grandfathered are the BCP 47 tags of RFC 5646 section 2.2.8 that do not
// follow the grammar, lower case.
var grandfathered = [...]string{
	"en-gb-oed", "i-ami", "i-bnn", "i-default", "i-enochian", "i-hak",
	"i-klingon", "i-lux", "i-mingo", "i-navajo", "i-pwn", "i-tao", "i-tay",
	"i-tsu", "sgn-be-fr", "sgn-be-nl", "sgn-ch-de", "art-lojban",
	"cel-gaulish", "no-bok", "no-nyn", "zh-guoyu", "zh-hakka", "zh-min",
	"zh-min-nan", "zh-xiang",
}
