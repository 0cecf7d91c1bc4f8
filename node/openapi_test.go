package node

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// The OpenAPI document served at /openapi.json, held to what the node
// does: a client generated from it must be able to make every call the
// node takes, with what it needs (the admin token, update_mask, etag), and
// read every answer.

// servedDoc is the OpenAPI document the node serves, decoded.
func servedDoc(t *testing.T, n *testNode) map[string]any {
	t.Helper()
	resp, b := n.do(t, "GET", "/openapi.json", "", "")
	if resp.StatusCode != 200 {
		t.Fatalf("GET /openapi.json: %d", resp.StatusCode)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

// op is the operation of method at path in doc.
func op(t *testing.T, doc map[string]any, path, method string) map[string]any {
	t.Helper()
	o, ok := doc["paths"].(map[string]any)[path].(map[string]any)[method].(map[string]any)
	if !ok {
		t.Fatalf("no %s %s in the document", method, path)
	}
	return o
}

// conform lists where v departs from the Swagger 2.0 schema s (type, $ref,
// items, properties, additionalProperties, enum), as a JSON client
// generated from the document reads it.
func conform(doc, s map[string]any, v any, at string) []string {
	if ref, ok := s["$ref"].(string); ok {
		s = doc["definitions"].(map[string]any)[strings.TrimPrefix(ref, "#/definitions/")].(map[string]any)
	}
	typ, _ := s["type"].(string)
	if typ == "" && s["properties"] != nil {
		typ = "object"
	}
	if v == nil {
		return []string{fmt.Sprintf("%s: null, the document says %s", at, typ)}
	}
	var bad []string
	switch typ {
	case "object":
		m, ok := v.(map[string]any)
		if !ok {
			return []string{fmt.Sprintf("%s: %T, the document says object", at, v)}
		}
		props, _ := s["properties"].(map[string]any)
		for k, fv := range m {
			if ps, ok := props[k].(map[string]any); ok {
				bad = append(bad, conform(doc, ps, fv, at+"."+k)...)
			} else if ap, ok := s["additionalProperties"].(map[string]any); ok {
				bad = append(bad, conform(doc, ap, fv, at+"."+k)...)
			}
		}
	case "array":
		a, ok := v.([]any)
		if !ok {
			return []string{fmt.Sprintf("%s: %T, the document says array", at, v)}
		}
		for i, e := range a {
			bad = append(bad, conform(doc, s["items"].(map[string]any), e, fmt.Sprintf("%s[%d]", at, i))...)
		}
	case "string":
		str, ok := v.(string)
		if !ok {
			return []string{fmt.Sprintf("%s: %T %v, the document says string", at, v, v)}
		}
		if enum, ok := s["enum"].([]any); ok {
			found := false
			for _, e := range enum {
				found = found || e == str
			}
			if !found {
				bad = append(bad, fmt.Sprintf("%s: %q is not of the enum", at, str))
			}
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			bad = append(bad, fmt.Sprintf("%s: %T, the document says boolean", at, v))
		}
	case "integer":
		if _, ok := v.(float64); !ok {
			bad = append(bad, fmt.Sprintf("%s: %T, the document says integer", at, v))
		}
	}
	return bad
}

// checkAnswer GETs path and checks its 200 answer against the
// operation's documented schema.
func checkAnswer(t *testing.T, n *testNode, doc map[string]any, docPath, path string) {
	t.Helper()
	resp, b := n.do(t, "GET", path, "", "")
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	schema := op(t, doc, docPath, "get")["responses"].(map[string]any)["200"].(map[string]any)["schema"].(map[string]any)
	for _, d := range conform(doc, schema, v, "") {
		t.Errorf("GET %s: %s", path, d)
	}
}

// TestPatchDocumentsUpdateMask: the PATCH methods take update_mask, and
// the document says so, so that a generated client can send it.
func TestPatchDocumentsUpdateMask(t *testing.T) {
	n := startNode(t)
	if resp, b := n.do(t, "POST", "/v1/origins/fr/tools?tool_id=decidim", testToken,
		`{"display_name":"Decidim","descriptions":{"en":{"short_description":"x"}},"license":"MIT"}`); resp.StatusCode != 200 {
		t.Fatalf("create: %d %s", resp.StatusCode, b)
	}
	// The node honours the mask: only display_name changes.
	_, got := n.doJSON(t, "PATCH", "/v1/origins/fr/tools/decidim?update_mask=display_name", testToken, `{"display_name":"Decidim 2","license":"GPL-3.0-only"}`)
	if got["display_name"] != "Decidim 2" || got["license"] != "MIT" {
		t.Fatalf("the node does not honour update_mask: %v %v", got["display_name"], got["license"])
	}
	doc := servedDoc(t, n)
	for _, p := range []string{"/v1/{tool.name}", "/v1/{use_case.name}"} {
		found := false
		for _, prm := range op(t, doc, p, "patch")["parameters"].([]any) {
			found = found || prm.(map[string]any)["name"] == "update_mask"
		}
		if !found {
			t.Errorf("PATCH %s: the document has no update_mask parameter, which the node takes", p)
		}
	}
}

// TestEtagIsAnInputInTheDocument: the etag sent in a PATCH body makes the
// update conditional (409 when stale), and the document does not mark it
// readOnly, which generated clients leave out of requests.
func TestEtagIsAnInputInTheDocument(t *testing.T) {
	n := startNode(t)
	_, created := n.doJSON(t, "POST", "/v1/origins/fr/tools?tool_id=decidim", testToken,
		`{"display_name":"Decidim","descriptions":{"en":{"short_description":"x"}}}`)
	stale := created["etag"].(string)
	n.doJSON(t, "PATCH", "/v1/origins/fr/tools/decidim", testToken, `{"display_name":"Decidim 2"}`)
	if code, _ := n.doJSON(t, "PATCH", "/v1/origins/fr/tools/decidim", testToken, `{"display_name":"Decidim 3","etag":"`+stale+`"}`); code != http.StatusConflict {
		t.Fatalf("stale etag in the body: %d, want 409", code)
	}
	doc := servedDoc(t, n)
	for _, p := range []string{"/v1/{tool.name}", "/v1/{use_case.name}"} {
		for _, prm := range op(t, doc, p, "patch")["parameters"].([]any) {
			prm := prm.(map[string]any)
			if prm["in"] != "body" {
				continue
			}
			etag := prm["schema"].(map[string]any)["properties"].(map[string]any)["etag"].(map[string]any)
			if etag["readOnly"] == true {
				t.Errorf("PATCH %s: the body's etag is readOnly in the document, but the node reads it", p)
			}
		}
	}
}

// TestWritesDocumentTheirToken: writes answer 401 without the admin
// token, and the document says which need it, how it is sent, and the 401.
func TestWritesDocumentTheirToken(t *testing.T) {
	n := startNode(t)
	if code, _ := n.doJSON(t, "POST", "/v1/origins/fr/tools?tool_id=x", "", `{}`); code != http.StatusUnauthorized {
		t.Fatalf("create without token: %d", code)
	}
	doc := servedDoc(t, n)
	if doc["securityDefinitions"] == nil {
		t.Errorf("the document has no securityDefinitions")
	}
	for _, w := range [][2]string{{"/v1/{parent}/tools", "post"}, {"/v1/{tool.name}", "patch"}, {"/v1/{name}", "delete"},
		{"/v1/{parent}/usecases", "post"}, {"/v1/{use_case.name}", "patch"}, {"/v1/{name_1}", "delete"}, {"/v1/harvests:import", "post"}} {
		o := op(t, doc, w[0], w[1])
		if o["security"] == nil && doc["security"] == nil {
			t.Errorf("%s %s needs the admin token; the document does not say so", strings.ToUpper(w[1]), w[0])
		}
		if _, ok := o["responses"].(map[string]any)["401"]; !ok {
			t.Errorf("%s %s answers 401; the document does not say so", strings.ToUpper(w[1]), w[0])
		}
	}
}

// TestAnswersMatchTheirSchemas: a tool created without maintenance or
// publisher, read back, and the list of tools, are what the document
// says (no null where it says an object or a date-time).
func TestAnswersMatchTheirSchemas(t *testing.T) {
	n := startNode(t)
	if resp, b := n.do(t, "POST", "/v1/origins/fr/tools?tool_id=decidim", testToken,
		`{"display_name":"Decidim","descriptions":{"en":{"short_description":"x"}}}`); resp.StatusCode != 200 {
		t.Fatalf("create: %d %s", resp.StatusCode, b)
	}
	doc := servedDoc(t, n)
	checkAnswer(t, n, doc, "/v1/{name}", "/v1/origins/fr/tools/decidim")
	checkAnswer(t, n, doc, "/v1/tools", "/v1/tools")
}

// TestHealthzTakesHead: HEAD /healthz (a load balancer's probe) is
// answered as GET, and a method it does not take gets 405 with Allow.
func TestHealthzTakesHead(t *testing.T) {
	n := startNode(t)
	if resp, _ := n.do(t, "GET", "/healthz", "", ""); resp.StatusCode != 200 {
		t.Fatalf("GET /healthz: %d", resp.StatusCode)
	}
	resp, b := n.do(t, "HEAD", "/healthz", "", "")
	if resp.StatusCode != 200 {
		t.Errorf("HEAD /healthz: %d, Allow %q, %d bytes; want 200 as GET", resp.StatusCode, resp.Header.Get("Allow"), len(b))
	}
	for _, m := range []string{"HEAD", "POST"} {
		if resp, _ := n.do(t, m, "/healthz", "", ""); resp.StatusCode == http.StatusMethodNotAllowed && resp.Header.Get("Allow") == "" {
			t.Errorf("%s /healthz: 405 without Allow", m)
		}
	}
}

// TestOutputOnlyMarkedReadOnly: the fields the protos call "Output only"
// are readOnly in the document.
func TestOutputOnlyMarkedReadOnly(t *testing.T) {
	n := startNode(t)
	doc := servedDoc(t, n)
	defs := doc["definitions"].(map[string]any)
	for name, d := range defs {
		props, _ := d.(map[string]any)["properties"].(map[string]any)
		for f, p := range props {
			p := p.(map[string]any)
			desc, _ := p["description"].(string)
			if strings.Contains(desc, "Output only") && p["readOnly"] != true {
				t.Errorf("%s.%s says Output only, and is not readOnly", name, f)
			}
		}
	}
}

// TestUnauthenticatedChallenge: a 401's WWW-Authenticate is a Bearer
// challenge (RFC 9110, RFC 6750), not the error's text.
func TestUnauthenticatedChallenge(t *testing.T) {
	n := startNode(t)
	resp, _ := n.do(t, "DELETE", "/v1/origins/fr/tools/x", "", "")
	if resp.StatusCode != 401 {
		t.Fatalf("%d", resp.StatusCode)
	}
	if h := resp.Header.Get("WWW-Authenticate"); !strings.HasPrefix(strings.ToLower(h), "bearer") {
		t.Errorf("401 WWW-Authenticate: %q, not a Bearer challenge", h)
	}
}

// TestErrorsCarryEveryField: every error body has its fields, details
// too, as the README says of JSON, the import refused before its body is
// read included.
func TestErrorsCarryEveryField(t *testing.T) {
	n := startNode(t)
	for _, c := range [][2]string{{"DELETE", "/v1/origins/fr/tools/x"}, {"POST", "/v1/harvests:import"}} {
		code, body := n.doJSON(t, c[0], c[1], "", "{}")
		if _, ok := body["details"]; code != 401 || !ok {
			t.Errorf("%s %s without token: %d %v, no details", c[0], c[1], code, body)
		}
	}
}
