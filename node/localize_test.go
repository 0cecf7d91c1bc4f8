package node

import (
	"context"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	catalogv1 "github.com/ogptoolbox/federation/gen/ogp/catalog/v1"
	"github.com/ogptoolbox/federation/validate"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// TestViolationsInTheCallersLanguage: a client that asks for French (a
// REST call's Accept-Language, a gRPC call's accept-language) gets each
// violation's localized message in French, beside its English
// description; one that asks for none, or for a language the messages
// are not written in, gets the English alone.
func TestViolationsInTheCallersLanguage(t *testing.T) {
	n := startNode(t)
	body := `{"display_name": "Outil", "repository_url": "pas une url", "descriptions": {"fr": {"short_description": "Un outil"}}}`
	rest := func(acceptLanguage string) string {
		req, err := http.NewRequest("POST", n.base+"/v1/origins/fr/tools?tool_id=outil", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+testToken)
		if acceptLanguage != "" {
			req.Header.Set("Accept-Language", acceptLanguage)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("Accept-Language %q: %d %s", acceptLanguage, resp.StatusCode, b)
		}
		return string(b)
	}
	// The violation as REST gives it: its description, and its localized
	// message's locale and text.
	violation := func(b string) (description, locale, message string) {
		var answer struct {
			Details []struct {
				FieldViolations []struct {
					Description      string `json:"description"`
					LocalizedMessage *struct {
						Locale, Message string
					} `json:"localized_message"`
				} `json:"field_violations"`
			}
		}
		if err := json.Unmarshal([]byte(b), &answer); err != nil || len(answer.Details) != 1 || len(answer.Details[0].FieldViolations) != 1 {
			t.Fatalf("%v: %s", err, b)
		}
		v := answer.Details[0].FieldViolations[0]
		if v.LocalizedMessage == nil {
			return v.Description, "", ""
		}
		return v.Description, v.LocalizedMessage.Locale, v.LocalizedMessage.Message
	}
	const english, french = `"pas une url" is not an http or https URL`, `"pas une url" n’est pas une URL http ou https`
	for _, al := range []string{"fr", "fr-CA", "de, fr;q=0.8, en;q=0.5"} {
		if description, locale, message := violation(rest(al)); description != english || locale != "fr" || message != french {
			t.Errorf("Accept-Language %q: %q, %s %q", al, description, locale, message)
		}
	}
	for _, al := range []string{"", "en", "de", "en, fr;q=0.5"} {
		if description, locale, message := violation(rest(al)); description != english || locale != "" || message != "" {
			t.Errorf("Accept-Language %q: %q, %s %q", al, description, locale, message)
		}
	}

	ctx := metadata.AppendToOutgoingContext(admin(context.Background()), "accept-language", "fr")
	tool := validTool()
	tool.RepositoryUrl = "pas une url"
	_, err := catalogv1.NewCatalogServiceClient(n.conn).CreateTool(ctx, &catalogv1.CreateToolRequest{Parent: "origins/fr", ToolId: "outil", Tool: tool})
	var got []string
	for _, d := range status.Convert(err).Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			for _, v := range br.GetFieldViolations() {
				got = append(got, v.GetField()+": "+v.GetLocalizedMessage().GetLocale()+" "+v.GetLocalizedMessage().GetMessage())
			}
		}
	}
	if want := []string{`tool.repository_url: fr "pas une url" n’est pas une URL http ou https`}; !slices.Equal(got, want) {
		t.Errorf("over gRPC: %q, want %q", got, want)
	}
}

// TestEveryViolationInFrench: each message the API's checks give (those of
// package validate, and the node's own, by invalidField too) has its
// French, which takes the same arguments.
func TestEveryViolationInFrench(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, filepath.Join("..", "validate", "validate.go"))
	verbs := regexp.MustCompile(`%(\[\d+\])?[a-z]`)
	checked := 0
	for _, file := range files {
		if strings.HasSuffix(file, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), file, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(nd ast.Node) bool {
			call, ok := nd.(*ast.CallExpr)
			if !ok || len(call.Args) < 2 {
				return true
			}
			// v.Add(field, format, ...), v.add(...), invalidField(field, format, ...)
			var name string
			switch fn := call.Fun.(type) {
			case *ast.SelectorExpr:
				name = fn.Sel.Name
			case *ast.Ident:
				name = fn.Name
			}
			lit, isLit := call.Args[1].(*ast.BasicLit)
			if (name != "Add" && name != "add" && name != "invalidField") || !isLit || lit.Kind != token.STRING {
				return true
			}
			format, err := strconv.Unquote(lit.Value)
			if err != nil || format == "%v" || format == "%s" { // an error's own text, English
				return true
			}
			checked++
			// Arguments of the types the English takes.
			var args []any
			for i, verb := range verbs.FindAllString(format, -1) {
				if strings.HasSuffix(verb, "d") {
					args = append(args, 1000+i)
				} else {
					args = append(args, "arg"+strconv.Itoa(i))
				}
			}
			var v validate.Violations
			v.Add("field", format, args...)
			fr, ok := v.List[0].Localized("fr")
			switch {
			case !ok:
				t.Errorf("%s: %q has no French", file, format)
			case strings.Contains(fr, "%!"):
				t.Errorf("%s: the French of %q takes other arguments: %q", file, format, fr)
			}
			for _, a := range args {
				if !strings.Contains(fr, fmt.Sprint(a)) {
					t.Errorf("%s: the French of %q leaves out %v: %q", file, format, a, fr)
				}
			}
			return true
		})
	}
	if checked < 40 {
		t.Errorf("%d messages checked: the test no longer finds them", checked)
	}
}
