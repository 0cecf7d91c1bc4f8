package web

import (
	"io/fs"
	"net/http"
	"strings"

	"github.com/ogptoolbox/federation/validate"
)

// routes maps the pages' paths to their handlers. Patterns carry no method:
// methods answers a wrong one with an error page of its own rather than
// the mux's plain-text 405.
func (s *Server) routes(static fs.FS) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("/{$}", s.methods(s.search, nil))
	mux.Handle("/tools/{origin}/{id}", s.methods(s.recordPath("tools", s.toolPage), nil))
	mux.Handle("/usecases/{origin}/{id}", s.methods(s.recordPath("usecases", s.useCasePage), nil))
	mux.Handle("/federation", s.methods(s.federationPage, nil))

	mux.Handle("/signin", s.methods(s.signInForm, s.signIn))
	mux.Handle("/signout", s.methods(nil, s.signedIn(s.signOut)))

	// The curation forms: /tools/new, /tools/{origin}/{id}/edit and
	// /tools/{origin}/{id}/delete, and the same for /usecases.
	toolCuration(s).routes(mux)
	useCaseCuration(s).routes(mux)

	mux.Handle("/static/", s.methods(s.static(static), nil))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.errorPage(w, r, http.StatusNotFound, "error.not_found", "")
	})
	return mux
}

// recordPath answers 404 for a path of the collection's records whose
// {origin}/{id} can name no record (an id in capitals, with a dot or a
// slash), as for a record this node does not hold, and passes the others
// to next: the API would refuse the name as an invalid argument, a 400
// that told link checkers the address was malformed rather than gone. The
// page still says why.
func (s *Server) recordPath(collection string, next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if _, _, err := validate.ParseName(recordName(r, collection), collection); err != nil {
			s.errorPage(w, r, http.StatusNotFound, "error.not_found_record", err.Error())
			return
		}
		next(w, r)
	}
}

// methods dispatches on the request's method; HEAD is served as GET.
// Another method gets 405 and an error page.
func (s *Server) methods(get, post http.HandlerFunc) http.Handler {
	return byMethod{s: s, get: get, post: post}
}

type byMethod struct {
	s         *Server
	get, post http.HandlerFunc
}

func (m byMethod) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case (r.Method == http.MethodGet || r.Method == http.MethodHead) && m.get != nil:
		m.get(w, r)
	case r.Method == http.MethodPost && m.post != nil:
		m.post(w, r)
	default:
		var allow []string
		if m.get != nil {
			allow = append(allow, http.MethodGet, http.MethodHead)
		}
		if m.post != nil {
			allow = append(allow, http.MethodPost)
		}
		w.Header().Set("Allow", strings.Join(allow, ", "))
		m.s.errorPage(w, r, http.StatusMethodNotAllowed, "error.method", "")
	}
}

// static serves the embedded assets, files only (no folder listings).
func (s *Server) static(sub fs.FS) http.HandlerFunc {
	files := http.StripPrefix("/static/", http.FileServerFS(sub))
	return func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/static/")
		if name == "" || strings.HasSuffix(name, "/") {
			s.errorPage(w, r, http.StatusNotFound, "error.not_found", "")
			return
		}
		if _, err := fs.Stat(sub, name); err != nil {
			s.errorPage(w, r, http.StatusNotFound, "error.not_found", "")
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=3600")
		files.ServeHTTP(w, r)
	}
}
