package web

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// errorView is the content of an error page.
type errorView struct {
	Status  int
	Message string // what went wrong, in the page's language
	Detail  string // the API's own words, when they help
	// Typed is what a form refused for its session sent (it ended, or
	// was opened in another tab), shown so that it is not lost.
	Typed  []typedField
	SignIn bool // a link to sign in
}

// typedField is a field of a form, as it was sent; Label is its label on
// the form, in the page's language, once showError has it.
type typedField struct{ Name, Label, Value string }

// descriptionInputs are the labels of a description block's inputs, by
// the suffix of their names ("d0_short").
var descriptionInputs = map[string]string{
	"lang":     "form.description_lang",
	"short":    "form.short_description",
	"long":     "form.long_description",
	"features": "form.features",
	"doc":      "form.documentation_url",
	"apidoc":   "form.api_documentation_url",
}

// typedLabel is the label of the form input name as the form showed it, in
// p's language, with the description block it is of ("Description 2 ·
// Short description"); the name itself for an input no form has.
func typedLabel(p *page, name string) string {
	if block, input, ok := strings.Cut(name, "_"); ok && len(block) > 1 && block[0] == 'd' {
		if n, err := strconv.Atoi(block[1:]); err == nil && n >= 0 && descriptionInputs[input] != "" {
			return p.T("form.description_n", n+1) + " · " + p.T(descriptionInputs[input])
		}
	}
	key := "form." + name
	switch name { // of the use case form
	case "tool":
		key = "form.uc_tool"
	case "url":
		key = "form.uc_url"
	}
	if l := p.T(key); l != key {
		return l
	}
	return name
}

// typedFields are the fields of r's form that hold text, but for its
// CSRF token and those the form sets itself.
func typedFields(r *http.Request) []typedField {
	var out []typedField
	for name, values := range r.PostForm {
		if name == "csrf" || name == "etag" || name == "descriptions" || strings.HasSuffix(name, "_from") {
			continue
		}
		for _, v := range values {
			if strings.TrimSpace(v) != "" {
				out = append(out, typedField{Name: name, Value: v})
			}
		}
	}
	slices.SortStableFunc(out, func(a, b typedField) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// formRefused answers a form refused for its session with an error page
// of key and status that shows what the form sent.
func (s *Server) formRefused(w http.ResponseWriter, r *http.Request, status int, key string) {
	v := errorView{Status: status, SignIn: status == http.StatusUnauthorized}
	// Only to the site's own pages, which browsers name in Origin: a
	// form another site posts would otherwise put its text on this one's.
	if r.Header.Get("Origin") != "" && sameOrigin(r) {
		v.Typed = typedFields(r)
	}
	s.showError(w, r, v, key)
}

// errorPage answers with an error page: a status, a message of the
// catalog (formatted with args), and optional detail.
func (s *Server) errorPage(w http.ResponseWriter, r *http.Request, status int, key, detail string, args ...any) {
	s.showError(w, r, errorView{Status: status, Detail: detail}, key, args...)
}

// showError answers with the error page of v, its message the message key
// in the page's language.
func (s *Server) showError(w http.ResponseWriter, r *http.Request, v errorView, key string, args ...any) {
	p := s.newPage(w, r, "error.title")
	p.Title = p.T("error.title_status", v.Status)
	v.Message = p.T(key, args...)
	for i := range v.Typed {
		v.Typed[i].Label = typedLabel(p, v.Typed[i].Name)
	}
	p.Content = v
	s.render(w, r, v.Status, "error", p)
}

// apiError answers for an error of an API call: the HTTP status of its
// gRPC code, and the API's message when it is the reader's to read (what
// was wrong with the request). Server faults are logged, not shown.
func (s *Server) apiError(w http.ResponseWriter, r *http.Request, err error) {
	s.apiErrorShowing(w, r, err, nil)
}

// formAPIError is apiError for a form the API refused for no field of
// its own (the record was deleted meanwhile, the node is stopping): the
// page shows what the form sent, so that it is not lost.
func (s *Server) formAPIError(w http.ResponseWriter, r *http.Request, err error) {
	s.apiErrorShowing(w, r, err, typedFields(r))
}

// apiErrorShowing is apiError, its page showing typed.
func (s *Server) apiErrorShowing(w http.ResponseWriter, r *http.Request, err error, typed []typedField) {
	if errors.Is(r.Context().Err(), context.Canceled) {
		return // the reader left
	}
	st := status.Convert(err)
	httpStatus, key := httpStatusOf(st.Code())
	detail := st.Message()
	if httpStatus >= 500 {
		s.log.Error("an API call of a page failed", "path", r.URL.Path, "code", st.Code().String(), "error", st.Message())
		detail = ""
	}
	s.showError(w, r, errorView{Status: httpStatus, Detail: detail, Typed: typed}, key)
}

// pageCalls are the API calls of one page, under one deadline. The first
// error sticks: a call after it is not made, and the page checks err once,
// after its calls.
type pageCalls struct {
	ctx context.Context
	err error
}

// calls starts the API calls of a page; cancel ends them.
func (s *Server) calls(r *http.Request) (c *pageCalls, cancel context.CancelFunc) {
	ctx, cancel := context.WithTimeout(r.Context(), callTimeout)
	return &pageCalls{ctx: ctx}, cancel
}

// call makes an API call of the page, method(req), unless one before it
// failed: then it returns the zero Resp and leaves c.err as it is.
func call[Req, Resp any](c *pageCalls, method func(context.Context, Req, ...grpc.CallOption) (Resp, error), req Req) Resp {
	if c.err != nil {
		var none Resp
		return none
	}
	resp, err := method(c.ctx, req)
	c.err = err
	return resp
}

// failed answers with the page of err, an API call's error, when there is
// one, and reports whether there was.
func (s *Server) failed(w http.ResponseWriter, r *http.Request, err error) bool {
	if err != nil {
		s.apiError(w, r, err)
	}
	return err != nil
}

// httpStatusOf is the HTTP status and the message key of a gRPC code, as
// the REST gateway maps codes.
func httpStatusOf(c codes.Code) (int, string) {
	switch c {
	case codes.InvalidArgument, codes.OutOfRange, codes.FailedPrecondition:
		return http.StatusBadRequest, "error.bad_request"
	case codes.NotFound:
		return http.StatusNotFound, "error.not_found_record"
	case codes.Unauthenticated:
		return http.StatusUnauthorized, "error.unauthenticated"
	case codes.PermissionDenied:
		return http.StatusForbidden, "error.permission"
	case codes.AlreadyExists, codes.Aborted:
		return http.StatusConflict, "error.conflict"
	case codes.ResourceExhausted, codes.Unavailable:
		return http.StatusServiceUnavailable, "error.unavailable"
	case codes.DeadlineExceeded:
		return http.StatusGatewayTimeout, "error.timeout"
	}
	return http.StatusInternalServerError, "error.internal"
}
