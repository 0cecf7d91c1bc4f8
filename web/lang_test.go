package web

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"golang.org/x/text/language"
)

func TestPickLanguage(t *testing.T) {
	tags := func(s ...string) []language.Tag {
		var out []language.Tag
		for _, x := range s {
			out = append(out, language.MustParse(x))
		}
		return out
	}
	for _, tc := range []struct {
		available []string
		prefs     []language.Tag
		want      string
	}{
		{[]string{"en", "fr"}, tags("fr", "en"), "fr"},
		{[]string{"en", "fr"}, tags("fr-CA", "en"), "fr"},
		{[]string{"en", "pt-BR"}, tags("pt", "en"), "pt-BR"},
		{[]string{"de", "fr"}, tags("es", "en"), "de"},       // nothing suits: the first
		{[]string{"de", "en", "fr"}, tags("ja", "en"), "en"}, // English as the last resort
		{[]string{"not a tag", "fr"}, tags("fr"), "fr"},
		{[]string{"not a tag"}, tags("fr"), "not a tag"},
		{nil, tags("fr"), ""},
	} {
		if got := pickLanguage(tc.available, tc.prefs); got != tc.want {
			t.Errorf("pickLanguage(%q, %v) = %q, want %q", tc.available, tc.prefs, got, tc.want)
		}
	}
}

func TestReaderLanguages(t *testing.T) {
	for _, tc := range []struct {
		query, cookie, accept string
		wantUI, wantFirst     string
		wantCookie            bool
	}{
		{"", "", "", "en", "en", false},
		{"", "", "fr-FR,fr;q=0.9,en;q=0.5", "fr", "fr-FR", false},
		{"", "", "de,fr;q=0.5", "fr", "de", false}, // German descriptions first when a record has them
		{"lang=fr", "", "en", "fr", "fr", true},
		{"lang=xx", "", "en", "en", "en", false},
		{"", "fr", "en", "fr", "fr", false},
		{"", "zz", "en", "en", "en", false},
	} {
		r := httptest.NewRequest(http.MethodGet, "/?"+tc.query, nil)
		if tc.accept != "" {
			r.Header.Set("Accept-Language", tc.accept)
		}
		if tc.cookie != "" {
			r.AddCookie(&http.Cookie{Name: langCookie, Value: tc.cookie})
		}
		w := httptest.NewRecorder()
		ui, prefs := readerLanguages(w, r)
		if ui != tc.wantUI || prefs[0].String() != tc.wantFirst {
			t.Errorf("%+v: ui %q, prefs %v", tc, ui, prefs)
		}
		if got := len(w.Result().Cookies()) > 0; got != tc.wantCookie {
			t.Errorf("%+v: cookie set %v", tc, got)
		}
	}
}
