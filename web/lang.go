package web

import (
	"net/http"
	"slices"
	"sort"

	"golang.org/x/text/language"
)

// pageLanguages are the languages of the pages' own text, the first the
// default; the message catalog has every key in each.
func pageLanguages() []language.Tag { return []language.Tag{language.English, language.French} }

// readerLanguages decides the language of the pages' own text and the
// reader's preferences for records' descriptions: ?lang (which the cookie
// then remembers), else the cookie, else Accept-Language. A switch chosen
// by the reader comes first among the preferences; Accept-Language
// follows, so a German reader who picked the French pages still gets a
// German description when a record has one.
func readerLanguages(w http.ResponseWriter, r *http.Request) (ui string, prefs []language.Tag) {
	supported := pageLanguages()
	// supportedAs is s as the pages' languages write it ("FR" is "fr"),
	// or "" when they do not hold it.
	supportedAs := func(s string) string {
		t, err := language.Parse(s)
		if err != nil || !slices.Contains(supported, t) {
			return ""
		}
		return t.String()
	}
	if q := supportedAs(r.URL.Query().Get("lang")); q != "" {
		ui = q
		http.SetCookie(w, &http.Cookie{
			Name: langCookie, Value: q, Path: "/", MaxAge: 365 * 24 * 3600,
			HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: viaTLS(r),
		})
	} else if c, err := r.Cookie(langCookie); err == nil {
		ui = supportedAs(c.Value)
	}
	accept, _, _ := language.ParseAcceptLanguage(r.Header.Get("Accept-Language"))
	if ui != "" {
		prefs = append(prefs, language.Make(ui))
	} else {
		_, i, _ := language.NewMatcher(supported).Match(accept...)
		ui = supported[i].String()
	}
	prefs = append(prefs, accept...)
	return ui, append(prefs, language.English)
}

// pickLanguage is the key of available (language tags, such as the keys of
// a tool's descriptions) that best suits prefs: the matcher's choice when
// it finds one, else English, else the first in alphabetical order. It is
// "" when available is empty.
func pickLanguage(available []string, prefs []language.Tag) string {
	if len(available) == 0 {
		return ""
	}
	keys := slices.Clone(available)
	sort.Strings(keys)
	var tags []language.Tag
	var tagKeys []string
	for _, k := range keys {
		if t, err := language.Parse(k); err == nil {
			tags, tagKeys = append(tags, t), append(tagKeys, k)
		}
	}
	if len(tags) > 0 {
		_, i, conf := language.NewMatcher(tags).Match(prefs...)
		if conf != language.No {
			return tagKeys[i]
		}
	}
	for _, k := range keys {
		if k == "en" {
			return k
		}
	}
	return keys[0]
}
