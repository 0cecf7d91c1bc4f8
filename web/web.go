// Package web serves the node's web pages at / on its HTTP listener: search
// of the federated catalog with facets, a page for each tool (with its
// qualification and its adoption across the federation) and use case, the
// federation's members, and the forms a point of contact signs in to curate
// the node's own tools and use cases. Pages are HTML rendered on the server
// (html/template, assets embedded), usable without JavaScript, in English
// and French.
//
// Package node constructs it and mounts it beside REST. It reads and writes
// only through the node's own gRPC API, over the client connection node
// hands it, so that auth, limits and validation are the API's own and its
// field violations are what the forms show beside their fields. It never
// opens the catalog and keeps no state but its signed-in sessions.
package web

import (
	"cmp"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"time"

	catalogv1 "github.com/ogptoolbox/federation/gen/ogp/catalog/v1"
	federationv1 "github.com/ogptoolbox/federation/gen/ogp/federation/v1"
	"github.com/ogptoolbox/federation/internal/lockout"
	"google.golang.org/grpc"
)

// Config is what the pages are built with.
type Config struct {
	// Conn reaches the node's gRPC API. Node passes the connection its
	// REST gateway uses, so every interceptor runs for the pages' calls.
	Conn grpc.ClientConnInterface
	// Origin is the node's own origin: the only one the forms write.
	Origin string
	// AdminToken is what sign-in compares the typed token with, and what
	// writes send to the API.
	AdminToken string
	// MaxFormBytes bounds the body of a form; 1 MiB when zero.
	MaxFormBytes int
	// SessionTTL is how long a sign-in lasts; 12 hours when zero.
	SessionTTL time.Duration
	// Logger logs what goes wrong on the server side.
	Logger *slog.Logger
	// TokenGuard slows down guessing the admin token (the API's writes
	// share it); one of the pages' own when nil.
	TokenGuard *lockout.Guard
	// TrustedProxy reports whether an address is a reverse proxy whose
	// X-Forwarded-For names the reader (see lockout.ClientAddr); none
	// when nil.
	TrustedProxy func(net.IP) bool
	// Now is the clock of session expiry; time.Now when nil.
	Now func() time.Time
}

// Server serves the pages. It is an http.Handler.
type Server struct {
	cfg        Config
	log        *slog.Logger
	catalog    catalogv1.CatalogServiceClient
	federation federationv1.FederationServiceClient
	harvests   catalogv1.HarvestServiceClient
	pages      map[string]*template.Template
	messages   map[string]messages
	sessions   *sessions
	signIns    *lockout.Guard // slows down guessing the admin token
	mux        *http.ServeMux
}

// New builds the pages' server: it parses the templates and checks the
// configuration.
func New(cfg Config) (*Server, error) {
	switch {
	case cfg.Conn == nil:
		return nil, errors.New("web: no gRPC connection")
	case cfg.Origin == "":
		return nil, errors.New("web: no origin")
	case cfg.AdminToken == "":
		return nil, errors.New("web: no admin token")
	}
	if cfg.MaxFormBytes <= 0 {
		cfg.MaxFormBytes = 1 << 20
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = 12 * time.Hour
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	pages, err := parsePages()
	if err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	static, err := fs.Sub(assets, "static")
	if err != nil {
		return nil, fmt.Errorf("web: static files: %w", err)
	}
	s := &Server{
		cfg:        cfg,
		log:        cfg.Logger.With("component", "web"),
		catalog:    catalogv1.NewCatalogServiceClient(cfg.Conn),
		federation: federationv1.NewFederationServiceClient(cfg.Conn),
		harvests:   catalogv1.NewHarvestServiceClient(cfg.Conn),
		pages:      pages,
		messages:   catalog(),
		sessions:   newSessions(cfg.SessionTTL, cfg.Now),
		signIns:    cmp.Or(cfg.TokenGuard, lockout.New(cfg.Now)),
	}
	s.mux = s.routes(static)
	return s, nil
}

// ServeHTTP serves a page. A panic in a handler becomes an error page, not
// a dropped connection.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			s.log.Error("panic serving a page", "path", r.URL.Path, "panic", p)
			s.errorPage(w, r, http.StatusInternalServerError, "error.internal", "")
		}
	}()
	h := w.Header()
	// The pages load nothing from elsewhere and run no script: a strict
	// policy costs nothing and limits what an injected string could do.
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	s.mux.ServeHTTP(w, r)
}
