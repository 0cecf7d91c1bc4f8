package web

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/ogptoolbox/federation/internal/lockout"
	"google.golang.org/protobuf/proto"
)

// Cookies the pages set.
const (
	sessionCookie = "ogpnode_session" // a signed-in session's id
	signInCookie  = "ogpnode_signin"  // the sign-in form's CSRF secret
	langCookie    = "ogpnode_lang"    // the pages' language, once chosen
)

// A session is a signed-in browser. The cookie holds only its random id:
// the admin token stays on the server, which sends it with each write.
type session struct {
	id      string
	csrf    string // the token every form of the session carries
	expires time.Time

	mu sync.Mutex
	// edited are the versions of records the session's edit forms were
	// made from, the latest last: when a record changed meanwhile, a
	// form's edit is merged with the change (see mergeEdits).
	edited []editedVersion
}

// An editedVersion is a version of a record an edit form showed.
type editedVersion struct {
	name, etag string
	record     proto.Message
}

// maxEditedVersions bounds the versions a session keeps: the forms of a
// few tabs.
const maxEditedVersions = 16

// showed remembers that an edit form showed rec, the version of name of
// etag.
func (s *session) showed(name, etag string, rec proto.Message) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.edited = slices.DeleteFunc(s.edited, func(v editedVersion) bool { return v.name == name && v.etag == etag })
	if len(s.edited) == maxEditedVersions {
		s.edited = slices.Delete(s.edited, 0, 1)
	}
	s.edited = append(s.edited, editedVersion{name: name, etag: etag, record: rec})
}

// shown is the version of name of etag an edit form of the session showed.
func (s *session) shown(name, etag string) (proto.Message, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, v := range s.edited {
		if v.name == name && v.etag == etag {
			return v.record, true
		}
	}
	return nil, false
}

// sessionOf is the session of a request signedIn passed, or nil.
func sessionOf(r *http.Request) *session {
	sess, _ := r.Context().Value(sessionKey{}).(*session)
	return sess
}

// sessions are the signed-in browsers, in memory: a restart signs every
// one out, which costs a point of contact one sign-in.
type sessions struct {
	mu   sync.Mutex
	byID map[string]*session
	ttl  time.Duration
	now  func() time.Time
}

func newSessions(ttl time.Duration, now func() time.Time) *sessions {
	return &sessions{byID: map[string]*session{}, ttl: ttl, now: now}
}

// create starts a session, and forgets the expired ones.
func (ss *sessions) create() *session {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	now := ss.now()
	for id, s := range ss.byID {
		if now.After(s.expires) {
			delete(ss.byID, id)
		}
	}
	s := &session{id: randomToken(), csrf: randomToken(), expires: now.Add(ss.ttl)}
	ss.byID[s.id] = s
	return s
}

// get is the live session of id, if any.
func (ss *sessions) get(id string) (*session, bool) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	s, ok := ss.byID[id]
	if !ok {
		return nil, false
	}
	if ss.now().After(s.expires) {
		delete(ss.byID, id)
		return nil, false
	}
	return s, true
}

func (ss *sessions) remove(id string) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	delete(ss.byID, id)
}

// randomToken is 256 random bits, URL-safe.
func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b) // never fails (crypto/rand panics rather than return an error)
	return base64.RawURLEncoding.EncodeToString(b)
}

// equalSecrets compares secrets in constant time, lengths included (it
// compares their hashes).
func equalSecrets(a, b string) bool {
	ha, hb := sha256.Sum256([]byte(a)), sha256.Sum256([]byte(b))
	return subtle.ConstantTimeCompare(ha[:], hb[:]) == 1
}

// session is the request's signed-in session, if any.
func (s *Server) session(r *http.Request) (*session, bool) {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return nil, false
	}
	return s.sessions.get(c.Value)
}

// cookie is a cookie of the pages: HttpOnly, SameSite=Strict, Secure when
// the browser came over TLS (viaTLS). maxAge < 0 deletes it.
func cookie(r *http.Request, name, value string, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name: name, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: viaTLS(r),
	}
}

// viaTLS reports whether the browser reached the node over TLS: the
// node's own (--http-tls-cert), or that of a reverse proxy in front of it,
// which says so in X-Forwarded-Proto or Forwarded (RFC 7239), the first
// proxy's word first. A client that claims it over plain HTTP only gets
// cookies that its browser will not send back there: the claim can make a
// cookie stricter, never looser, so it needs no trust.
func viaTLS(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	if xfp := r.Header.Get("X-Forwarded-Proto"); xfp != "" {
		return strings.EqualFold(firstProxy(xfp), "https")
	}
	return strings.EqualFold(forwarded(r, "proto"), "https")
}

type sessionKey struct{}

// signedIn lets a request through only with a live session, and a POST
// only with the session's CSRF token and from the node's own pages. A GET
// without a session is sent to sign in, and comes back after.
func (s *Server) signedIn(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		sess, ok := s.session(r)
		if !ok {
			if r.Method == http.MethodGet || r.Method == http.MethodHead {
				http.Redirect(w, r, "/signin?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			// A form posted once the session ended: what it sent is
			// shown, not lost.
			if r.Method == http.MethodPost && !s.parseForm(w, r) {
				return
			}
			s.formRefused(w, r, http.StatusUnauthorized, "error.signed_out")
			return
		}
		if r.Method == http.MethodPost {
			if !s.parseForm(w, r) {
				return
			}
			if !sameOrigin(r) || !equalSecrets(r.PostFormValue("csrf"), sess.csrf) {
				s.formRefused(w, r, http.StatusForbidden, "error.csrf")
				return
			}
		}
		next(w, r.WithContext(context.WithValue(r.Context(), sessionKey{}, sess)))
	}
}

// parseForm reads a POST's form, at most MaxFormBytes of it; on error it
// answers with an error page and returns false.
func (s *Server) parseForm(w http.ResponseWriter, r *http.Request) bool {
	r.Body = http.MaxBytesReader(w, r.Body, int64(s.cfg.MaxFormBytes))
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, r, http.StatusBadRequest, "error.bad_form", err.Error())
		return false
	}
	// Browsers send forms in UTF-8; a field that is not (another client)
	// would fail the API call, as an error of the node's.
	for name, values := range r.PostForm {
		for _, v := range values {
			if !utf8.ValidString(name) || !utf8.ValidString(v) {
				s.errorPage(w, r, http.StatusBadRequest, "error.bad_form", fmt.Sprintf("the field %q is not UTF-8", strings.ToValidUTF8(name, "\uFFFD")))
				return false
			}
		}
	}
	return true
}

// sameOrigin refuses a POST that a browser says came from another site's
// page, as the standard library's cross-origin check does: Sec-Fetch-Site
// first, which browsers of the last years send, then Origin against Host.
// A request with neither (not a browser) still needs the CSRF token.
// Behind a reverse proxy that sends the node its own address as Host (as
// nginx's proxy_pass does by default, or Go's httputil.ReverseProxy), a
// browser without Sec-Fetch-Site names the proxy's host in Origin: the
// host the proxy says it was asked for (X-Forwarded-Host, Forwarded's
// host) counts too, since no page of another site can set those headers.
// (Like the standard check, it lets GET and HEAD through: they change
// nothing.)
func sameOrigin(r *http.Request) bool {
	if http.NewCrossOriginProtection().Check(r) == nil {
		return true
	}
	o, err := url.Parse(r.Header.Get("Origin"))
	if err != nil || o.Host == "" || r.Header.Get("Sec-Fetch-Site") != "" {
		return false
	}
	for _, host := range []string{firstProxy(r.Header.Get("X-Forwarded-Host")), forwarded(r, "host")} {
		if host != "" && strings.EqualFold(host, o.Host) {
			return true
		}
	}
	return false
}

// firstProxy is the first of a list of proxies' values (the one the
// browser's proxy added), trimmed.
func firstProxy(values string) string {
	first, _, _ := strings.Cut(values, ",")
	return strings.TrimSpace(first)
}

// forwarded is the value of param in the first element of the request's
// Forwarded header (RFC 7239), unquoted; "" without one.
func forwarded(r *http.Request, param string) string {
	for _, pair := range strings.Split(firstProxy(r.Header.Get("Forwarded")), ";") {
		k, v, _ := strings.Cut(strings.TrimSpace(pair), "=")
		if strings.EqualFold(k, param) {
			return strings.Trim(v, `"`)
		}
	}
	return ""
}

// localPath is next if it is a path on this site, else "/": sign-in must
// not send anyone elsewhere. Browsers read a backslash as a slash, and
// drop tabs and line ends, in a Location ("/\evil.example" and a slash,
// a tab and a slash go to evil.example), and http.Redirect cleans the
// path first ("/./\evil.example" becomes "/\evil.example"): a next
// holding any of them is refused.
func localPath(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsFunc(next, func(r rune) bool { return r == '\\' || unicode.IsControl(r) }) {
		return "/"
	}
	if u, err := url.Parse(next); err != nil || u.Host != "" || u.Scheme != "" || u.User != nil {
		return "/"
	}
	return next
}

func (s *Server) signInForm(w http.ResponseWriter, r *http.Request) {
	next := localPath(r.URL.Query().Get("next"))
	if _, ok := s.session(r); ok {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	s.renderSignIn(w, r, http.StatusOK, next, "")
}

// renderSignIn shows the sign-in form. Before a session exists, its CSRF
// token is a random secret in a cookie that the form repeats (double
// submit): another site can neither read the cookie nor set it.
func (s *Server) renderSignIn(w http.ResponseWriter, r *http.Request, status int, next, errKey string, args ...any) {
	secret := ""
	if c, err := r.Cookie(signInCookie); err == nil && len(c.Value) >= 32 {
		secret = c.Value
	} else {
		secret = randomToken()
		http.SetCookie(w, cookie(r, signInCookie, secret, 3600))
	}
	p := s.newPage(w, r, "signin.title")
	p.CSRF = secret
	form := signInView{Next: next}
	if errKey != "" {
		form.Error = p.T(errKey, args...)
		p.Title = p.T("form.error") + " " + p.Title // see curation.render
	}
	p.Content = form
	s.render(w, r, status, "signin", p)
}

type signInView struct {
	Next  string
	Error string
}

func (s *Server) signIn(w http.ResponseWriter, r *http.Request) {
	if !s.parseForm(w, r) {
		return
	}
	next := localPath(r.PostFormValue("next"))
	c, err := r.Cookie(signInCookie)
	if err != nil || !sameOrigin(r) || !equalSecrets(r.PostFormValue("csrf"), c.Value) {
		s.errorPage(w, r, http.StatusForbidden, "error.csrf", "")
		return
	}
	addr := lockout.ClientAddr(r.RemoteAddr, r.Header.Values("X-Forwarded-For"), s.cfg.TrustedProxy)
	if wait := s.signIns.LockedOut(addr); wait > 0 {
		lockedOut(w, wait)
		s.renderSignIn(w, r, http.StatusTooManyRequests, next, "signin.locked_out", int(wait.Round(time.Second)/time.Second)+1)
		return
	}
	// Trimmed, as the API takes it: a token pasted with a space or a
	// line end around it is the token.
	if !equalSecrets(strings.TrimSpace(r.PostFormValue("token")), s.cfg.AdminToken) {
		if wait := s.signIns.Failed(addr); wait > 0 {
			if wait == time.Second { // the first lockout of a run of them: said once
				s.log.Warn("refused sign-ins with wrong admin tokens, too many from one address: each next wrong one locks it out twice as long", "remote", addr)
			}
			lockedOut(w, wait)
			s.renderSignIn(w, r, http.StatusTooManyRequests, next, "signin.locked_out", int(wait.Round(time.Second)/time.Second))
			return
		}
		s.log.Warn("refused a sign-in with a wrong admin token", "remote", r.RemoteAddr)
		s.renderSignIn(w, r, http.StatusUnauthorized, next, "signin.wrong_token")
		return
	}
	s.signIns.Succeeded(addr)
	sess := s.sessions.create()
	http.SetCookie(w, cookie(r, sessionCookie, sess.id, int(s.cfg.SessionTTL.Seconds())))
	http.SetCookie(w, cookie(r, signInCookie, "", -1))
	s.log.Info("signed in", "remote", r.RemoteAddr)
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (s *Server) signOut(w http.ResponseWriter, r *http.Request) {
	if sess := sessionOf(r); sess != nil {
		s.sessions.remove(sess.id)
	}
	http.SetCookie(w, cookie(r, sessionCookie, "", -1))
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// lockedOut says in the answer's Retry-After when a sign-in locked out for
// wait may be tried again.
func lockedOut(w http.ResponseWriter, wait time.Duration) {
	w.Header().Set("Retry-After", strconv.Itoa(int((wait+time.Second-1)/time.Second)))
}
