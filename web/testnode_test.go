package web_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	catalogv1 "github.com/ogptoolbox/federation/gen/ogp/catalog/v1"
	"github.com/ogptoolbox/federation/node"
	"golang.org/x/net/html"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
)

const testToken = "web-test-admin-token-0123456789"

// testNode is a real node on loopback ports: the pages at base, its
// gRPC API through catalog.
type testNode struct {
	base    string
	catalog catalogv1.CatalogServiceClient
}

// startNode runs a node of origin "fr" with a known admin token, in a
// temporary data folder, until the test ends.
func startNode(t *testing.T) *testNode {
	t.Helper()
	return startNodeIn(t, filepath.Join(t.TempDir(), "data"))
}

// startNodeIn is startNode on the data folder dir, its configuration
// changed by mutate.
func startNodeIn(t *testing.T, dir string, mutate ...func(*node.Config)) *testNode {
	t.Helper()
	cfg := node.DefaultConfig()
	cfg.Origin = "fr"
	cfg.DataDir = dir
	cfg.HTTPAddr, cfg.GRPCAddr, cfg.GossipAddr = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
	cfg.AdminToken = testToken
	cfg.GossipTimings = "local"
	for _, m := range mutate {
		m(&cfg)
	}
	n, err := node.New(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("node.New: %v", err)
	}
	// The test's context ends as the test does, before the cleanup waits
	// for Run to return.
	done := make(chan error, 1)
	go func() { done <- n.Run(t.Context()) }()
	conn, err := grpc.NewClient(n.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn.Close()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return &testNode{base: "http://" + n.HTTPAddr(), catalog: catalogv1.NewCatalogServiceClient(conn)}
}

func admin(ctx context.Context) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+testToken)
}

// seed writes, through the gRPC API, tools and use cases the tests look
// for: Decidim, used in France, Spain and Finland; Consul; a lobbying
// register.
func seed(t *testing.T, n *testNode) {
	t.Helper()
	ctx := admin(context.Background())
	tools := map[string]*catalogv1.Tool{
		"decidim": {
			DisplayName: "Decidim",
			Descriptions: map[string]*catalogv1.Description{
				"en": {ShortDescription: "Participatory democracy for cities and organisations", Features: []string{"participatory budgeting", "proposals"}},
				"fr": {ShortDescription: "Démocratie participative pour les villes et les organisations"},
			},
			RepositoryUrl: "https://github.com/decidim/decidim", LandingUrl: "https://decidim.org",
			License:    "AGPL-3.0-or-later",
			OgpThemes:  []catalogv1.OgpTheme{catalogv1.OgpTheme_OGP_THEME_PARTICIPATORY_BUDGETING, catalogv1.OgpTheme_OGP_THEME_PUBLIC_PARTICIPATION},
			Categories: []string{"collaboration"}, DevelopmentStatus: "stable", Platforms: []string{"web"},
		},
		"consul": {
			DisplayName:   "Consul Democracy",
			Descriptions:  map[string]*catalogv1.Description{"en": {ShortDescription: "Citizen participation: proposals, debates, petitions"}},
			RepositoryUrl: "https://github.com/consuldemocracy/consuldemocracy", License: "AGPL-3.0-or-later",
			OgpThemes: []catalogv1.OgpTheme{catalogv1.OgpTheme_OGP_THEME_E_PETITIONS},
		},
		"lobby-register": {
			DisplayName:  "Open Lobby Register",
			Descriptions: map[string]*catalogv1.Description{"fr": {ShortDescription: "Registre des représentants d'intérêts"}},
			License:      "MIT", OgpThemes: []catalogv1.OgpTheme{catalogv1.OgpTheme_OGP_THEME_LOBBYING_REGISTERS},
		},
	}
	for id, tool := range tools {
		if _, err := n.catalog.CreateTool(ctx, &catalogv1.CreateToolRequest{Parent: "origins/fr", ToolId: id, Tool: tool}); err != nil {
			t.Fatalf("create tool %s: %v", id, err)
		}
	}
	useCases := map[string]*catalogv1.UseCase{
		"barcelona": {Tool: "origins/fr/tools/decidim", Purpose: "Participatory budgeting of the city",
			Organization: &catalogv1.Organization{Name: "Ajuntament de Barcelona", Kind: catalogv1.OrganizationKind_ORGANIZATION_KIND_LOCAL_GOVERNMENT, Country: "ES"},
			Status:       catalogv1.UseCaseStatus_USE_CASE_STATUS_ACTIVE, Commitments: []string{"ES0042"}},
		"helsinki": {Tool: "https://github.com/decidim/decidim", Purpose: "OmaStadi participatory budget",
			Organization: &catalogv1.Organization{Name: "City of Helsinki", Kind: catalogv1.OrganizationKind_ORGANIZATION_KIND_LOCAL_GOVERNMENT, Country: "FI"}},
		"assemblee": {Tool: "origins/fr/tools/consul", Purpose: "Consultations on bills",
			Organization: &catalogv1.Organization{Name: "Assemblée nationale", Kind: catalogv1.OrganizationKind_ORGANIZATION_KIND_PARLIAMENT, Country: "FR"}},
	}
	for id, u := range useCases {
		if _, err := n.catalog.CreateUseCase(ctx, &catalogv1.CreateUseCaseRequest{Parent: "origins/fr", UseCaseId: id, UseCase: u}); err != nil {
			t.Fatalf("create use case %s: %v", id, err)
		}
	}
}

// client is a browser without JavaScript: it keeps cookies and does not
// follow redirects, so that tests see them.
func client(t *testing.T) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// get fetches a page: its status, body and response.
func get(t *testing.T, c *http.Client, u string, header ...string) (int, string, *http.Response) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return do(t, c, req)
}

// post sends a form.
func post(t *testing.T, c *http.Client, u string, form url.Values, header ...string) (int, string, *http.Response) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return do(t, c, req)
}

func do(t *testing.T, c *http.Client, req *http.Request) (int, string, *http.Response) {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read: %v", req.Method, req.URL, err)
	}
	return resp.StatusCode, string(b), resp
}

// csrfOf is the CSRF token of the first form of a page.
func csrfOf(t *testing.T, page string) string {
	t.Helper()
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF token in the page:\n%s", page)
	}
	return m[1]
}

// signIn signs c in, and returns the session's CSRF token.
func signIn(t *testing.T, c *http.Client, n *testNode) string {
	t.Helper()
	_, page, _ := get(t, c, n.base+"/signin")
	code, _, resp := post(t, c, n.base+"/signin", url.Values{"csrf": {csrfOf(t, page)}, "token": {testToken}, "next": {"/"}})
	if code != http.StatusSeeOther {
		t.Fatalf("sign in: %d", code)
	}
	_, page, _ = get(t, c, n.base+resp.Header.Get("Location"))
	return csrfOf(t, page)
}

// regexpValue is the value of the hidden input name of a page.
func regexpValue(t *testing.T, page, name string) string {
	t.Helper()
	m := regexp.MustCompile(`name="` + regexp.QuoteMeta(name) + `" value="([^"]*)"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no input %s in the page:\n%s", name, page)
	}
	return m[1]
}

func fieldMask(paths ...string) *fieldmaskpb.FieldMask { return &fieldmaskpb.FieldMask{Paths: paths} }

// formOnPage is what a browser posts of the form of page whose action is
// action, unchanged: its inputs' values, checked boxes, selected options,
// and its textareas' text (the newline HTML drops after the tag dropped,
// line ends sent as CR LF).
func formOnPage(t *testing.T, page, action string) url.Values {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	attr := func(n *html.Node, key string) (string, bool) {
		for _, a := range n.Attr {
			if a.Key == key {
				return a.Val, true
			}
		}
		return "", false
	}
	var form *html.Node
	for n := range doc.Descendants() {
		if a, _ := attr(n, "action"); n.Type == html.ElementNode && n.Data == "form" && a == action {
			form = n
		}
	}
	if form == nil {
		t.Fatalf("no form posting to %s on the page", action)
	}
	v := url.Values{}
	for n := range form.Descendants() {
		if n.Type != html.ElementNode {
			continue
		}
		name, named := attr(n, "name")
		if !named {
			continue
		}
		switch n.Data {
		case "input":
			value, _ := attr(n, "value")
			typ, _ := attr(n, "type")
			_, checked := attr(n, "checked")
			switch {
			case typ == "checkbox" && !checked:
			case typ == "checkbox" && value == "":
				v.Add(name, "on")
			default:
				v.Add(name, value)
			}
		case "textarea":
			var text strings.Builder
			for c := range n.ChildNodes() {
				text.WriteString(c.Data)
			}
			v.Add(name, strings.ReplaceAll(text.String(), "\n", "\r\n"))
		case "select":
			for o := range n.Descendants() {
				if _, selected := attr(o, "selected"); o.Type == html.ElementNode && o.Data == "option" && selected {
					value, _ := attr(o, "value")
					v.Add(name, value)
				}
			}
		}
	}
	return v
}
