package web

import (
	"testing"
	"time"
)

func TestLocalPath(t *testing.T) {
	checkMapping(t, "localPath", localPath, map[string]string{
		"/federation":           "/federation",
		"/tools/fr/x/edit?a=b":  "/tools/fr/x/edit?a=b",
		"":                      "/",
		"https://evil.example/": "/",
		"//evil.example/":       "/",
		"/\\evil.example":       "/",
		"/./\\evil.example/":    "/", // http.Redirect would clean it to /\evil.example/
		"/\t/evil.example":      "/",
		"/\n/evil.example":      "/",
		"/tools?q=a\\b":         "/", // any backslash: it is never needed in a page of this site
		"federation":            "/",
		"javascript:alert(1)":   "/",
	})
}

func TestSessionsExpire(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ss := newSessions(time.Hour, func() time.Time { return now })
	s := ss.create()
	if _, ok := ss.get(s.id); !ok {
		t.Fatal("a new session is not live")
	}
	if _, ok := ss.get(s.id + "x"); ok {
		t.Error("an unknown id is live")
	}
	now = now.Add(time.Hour + time.Second)
	if _, ok := ss.get(s.id); ok {
		t.Error("an expired session is live")
	}
	if s.csrf == s.id || len(s.id) < 43 {
		t.Errorf("session %+v", s)
	}
}
