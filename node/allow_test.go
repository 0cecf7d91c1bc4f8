package node

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	federation "github.com/ogptoolbox/federation"
)

// TestRESTRoutesMatchOpenAPI checks restRoutes against the OpenAPI
// document the protos make: every address and method of one is in the
// other (HEAD aside), with path parameters given a value of their shape.
func TestRESTRoutesMatchOpenAPI(t *testing.T) {
	var doc struct {
		Paths map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(federation.OpenAPIDocument(), &doc); err != nil {
		t.Fatal(err)
	}
	// A path parameter names a tool, a use case or an origin.
	values := strings.NewReplacer("{parent}", "origins/fr", "{tool.name}", "origins/fr/tools/x", "{use_case.name}", "origins/fr/usecases/x")
	instances := func(path string) []string {
		p := values.Replace(path)
		if !strings.Contains(p, "{name") {
			return []string{p}
		}
		var out []string
		for _, name := range []string{"origins/fr/tools/x", "origins/fr/usecases/x"} {
			out = append(out, strings.NewReplacer("{name}", name, "{name_1}", name).Replace(p))
		}
		return out
	}
	documented := map[string]bool{} // "METHOD path" of an instance of a documented address
	for path, ops := range doc.Paths {
		for method := range ops {
			method = strings.ToUpper(method)
			found := false
			for _, p := range instances(path) {
				documented[method+" "+p] = true
				found = found || slices.Contains(strings.Split(allowedMethods(p), ", "), method)
			}
			if !found {
				t.Errorf("%s %s (OpenAPI) is not in restRoutes", method, path)
			}
		}
	}
	for _, p := range []string{"/v1/tools", "/v1/node", "/v1/harvests:import", "/v1/origins/fr/tools", "/v1/origins/fr/usecases",
		"/v1/origins/fr/tools/x", "/v1/origins/fr/usecases/x", "/v1/origins/fr/tools/x:adoption"} {
		for _, method := range strings.Split(allowedMethods(p), ", ") {
			if method != http.MethodHead && !documented[method+" "+p] {
				t.Errorf("restRoutes allows %s %s, which the OpenAPI document does not", method, p)
			}
		}
	}
}

// TestEvery405HasAllow checks that a 405 carries an Allow header (RFC
// 9110 §15.5.6) for names holding a ":" too.
func TestEvery405HasAllow(t *testing.T) {
	n := startNode(t)
	for _, p := range []string{"/v1/origins/fr/tools/a:b", "/v1/origins/fr/usecases/x:adoption", "/v1/origins/fr/tools/x:adoption", "/v1/tools:facets"} {
		resp, _ := n.do(t, "PUT", p, "", "")
		if resp.StatusCode == http.StatusMethodNotAllowed && resp.Header.Get("Allow") == "" {
			t.Errorf("PUT %s: 405 without Allow", p)
		}
	}
}
