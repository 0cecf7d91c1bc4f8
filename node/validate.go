package node

import (
	"fmt"
	"net/mail"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/ogptoolbox/federation/envelope"
	catalogv1 "github.com/ogptoolbox/federation/gen/ogp/catalog/v1"
	"github.com/ogptoolbox/federation/spdx"
	"github.com/ogptoolbox/federation/vocabulary"
	"golang.org/x/text/language"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Limits on the size of a record's fields.
const (
	maxDisplayName      = 200
	maxShortDescription = 150
	maxLongDescription  = 10000
	maxFeatures         = 100
	maxFeature          = 200
	maxURL              = 2048
	maxListItems        = 100
	maxShortText        = 300
	maxPurpose          = 2000
)

// violations collects what is wrong with a request, field by field, so that
// one answer names every problem.
type violations struct {
	list []*errdetails.BadRequest_FieldViolation
}

func (v *violations) add(field, format string, args ...any) {
	v.list = append(v.list, &errdetails.BadRequest_FieldViolation{Field: field, Description: fmt.Sprintf(format, args...)})
}

// err is nil if nothing was wrong, else INVALID_ARGUMENT with a
// google.rpc.BadRequest naming each field.
func (v *violations) err() error {
	if len(v.list) == 0 {
		return nil
	}
	msg := v.list[0].GetField() + ": " + v.list[0].GetDescription()
	if len(v.list) > 1 {
		msg += fmt.Sprintf(" (and %d more)", len(v.list)-1)
	}
	st, err := status.New(codes.InvalidArgument, msg).WithDetails(&errdetails.BadRequest{FieldViolations: v.list})
	if err != nil {
		return status.Error(codes.InvalidArgument, msg)
	}
	return st.Err()
}

// invalidField is INVALID_ARGUMENT naming one field.
func invalidField(field, format string, args ...any) error {
	var v violations
	v.add(field, format, args...)
	return v.err()
}

func (v *violations) text(field, s string, required bool, max int) {
	switch n := utf8.RuneCountInString(s); {
	case !utf8.ValidString(s):
		v.add(field, "is not valid UTF-8")
	case required && strings.TrimSpace(s) == "":
		v.add(field, "is required")
	case n > max:
		v.add(field, "is %d characters long, more than %d", n, max)
	case strings.ContainsFunc(s, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\t' && r != '\r' }):
		v.add(field, "contains control characters")
	}
}

func (v *violations) url(field, s string) {
	if s == "" {
		return
	}
	if len(s) > maxURL {
		v.add(field, "is %d characters long, more than %d", len(s), maxURL)
		return
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		v.add(field, "%q is not an http or https URL", s)
	}
}

func (v *violations) languageTag(field, s string) {
	if _, err := language.Parse(s); err != nil || s == "" {
		v.add(field, "%q is not a BCP 47 language tag (such as en, fr or pt-BR)", s)
	}
}

func (v *violations) count(field string, n int) {
	if n > maxListItems {
		v.add(field, "has %d items, more than %d", n, maxListItems)
	}
}

func (v *violations) enum(field string, e protoreflect.Enum, required bool) {
	num := e.Number()
	if e.Descriptor().Values().ByNumber(num) == nil {
		v.add(field, "%d is not a value of %s", num, e.Descriptor().Name())
	} else if required && num == 0 {
		v.add(field, "is required")
	}
}

func (v *violations) date(field, s string, layouts ...string) {
	if s == "" {
		return
	}
	for _, l := range layouts {
		if _, err := time.Parse(l, s); err == nil {
			return
		}
	}
	v.add(field, "%q is not a date of the form %s", s, strings.Join(layouts, " or "))
}

func (v *violations) noDuplicates(field string, items []string) {
	seen := map[string]bool{}
	for i, it := range items {
		if seen[it] {
			v.add(fmt.Sprintf("%s[%d]", field, i), "%q is listed twice", it)
		}
		seen[it] = true
	}
}

// validateTool checks a tool's writable fields; prefix is the field path of
// the tool in the request ("tool").
func validateTool(v *violations, prefix string, t *catalogv1.Tool) {
	f := func(name string) string { return prefix + "." + name }
	v.text(f("display_name"), t.GetDisplayName(), true, maxDisplayName)

	if len(t.GetDescriptions()) == 0 {
		v.add(f("descriptions"), "is required: describe the tool in at least one language")
	}
	v.count(f("descriptions"), len(t.GetDescriptions()))
	for lang, d := range t.GetDescriptions() {
		df := f("descriptions." + lang)
		v.languageTag(df, lang)
		if d == nil {
			v.add(df, "is empty")
			continue
		}
		v.text(df+".short_description", d.GetShortDescription(), true, maxShortDescription)
		v.text(df+".long_description", d.GetLongDescription(), false, maxLongDescription)
		if n := len(d.GetFeatures()); n > maxFeatures {
			v.add(df+".features", "has %d items, more than %d", n, maxFeatures)
		}
		for i, feat := range d.GetFeatures() {
			v.text(fmt.Sprintf("%s.features[%d]", df, i), feat, true, maxFeature)
		}
		v.url(df+".documentation_url", d.GetDocumentationUrl())
	}
	v.url(f("repository_url"), t.GetRepositoryUrl())
	v.url(f("landing_url"), t.GetLandingUrl())
	v.url(f("logo_url"), t.GetLogoUrl())
	if t.GetLicense() != "" {
		if err := spdx.Validate(t.GetLicense()); err != nil {
			v.add(f("license"), "%q is not a valid SPDX license expression: %v", t.GetLicense(), err)
		}
	}
	v.count(f("categories"), len(t.GetCategories()))
	for i, c := range t.GetCategories() {
		if !vocabulary.IsCategory(c) {
			v.add(fmt.Sprintf("%s[%d]", f("categories"), i), "%q is not a publiccode.yml category", c)
		}
	}
	v.noDuplicates(f("categories"), t.GetCategories())
	v.count(f("ogp_themes"), len(t.GetOgpThemes()))
	for i, th := range t.GetOgpThemes() {
		v.enum(fmt.Sprintf("%s[%d]", f("ogp_themes"), i), th, true)
	}
	if s := t.GetDevelopmentStatus(); s != "" && !vocabulary.IsDevelopmentStatus(s) {
		v.add(f("development_status"), "%q is not one of %s", s, strings.Join(vocabulary.DevelopmentStatuses(), ", "))
	}
	if s := t.GetSoftwareType(); s != "" && !vocabulary.IsSoftwareType(s) {
		v.add(f("software_type"), "%q is not one of %s", s, strings.Join(vocabulary.SoftwareTypes(), ", "))
	}
	v.count(f("platforms"), len(t.GetPlatforms()))
	for i, p := range t.GetPlatforms() {
		if !vocabulary.IsPlatform(p) {
			v.add(fmt.Sprintf("%s[%d]", f("platforms"), i), "%q is not a platform: use web, windows, mac, linux, ios, android or another lowercase word", p)
		}
	}
	v.count(f("available_languages"), len(t.GetAvailableLanguages()))
	for i, l := range t.GetAvailableLanguages() {
		v.languageTag(fmt.Sprintf("%s[%d]", f("available_languages"), i), l)
	}
	if m := t.GetMaintenance(); m != nil {
		if s := m.GetType(); s != "" && !vocabulary.IsMaintenanceType(s) {
			v.add(f("maintenance.type"), "%q is not one of %s", s, strings.Join(vocabulary.MaintenanceTypes(), ", "))
		}
		v.count(f("maintenance.contacts"), len(m.GetContacts()))
		for i, c := range m.GetContacts() {
			cf := fmt.Sprintf("%s[%d]", f("maintenance.contacts"), i)
			v.text(cf+".name", c.GetName(), true, maxShortText)
			if e := c.GetEmail(); e != "" {
				if a, err := mail.ParseAddress(e); err != nil || a.Address != e {
					v.add(cf+".email", "%q is not an e-mail address", e)
				}
			}
			v.text(cf+".phone", c.GetPhone(), false, 50)
			v.text(cf+".affiliation", c.GetAffiliation(), false, maxShortText)
		}
		v.count(f("maintenance.contractors"), len(m.GetContractors()))
		for i, c := range m.GetContractors() {
			cf := fmt.Sprintf("%s[%d]", f("maintenance.contractors"), i)
			v.text(cf+".name", c.GetName(), true, maxShortText)
			v.url(cf+".website", c.GetWebsite())
			v.date(cf+".until", c.GetUntil(), time.DateOnly)
		}
	}
	if p := t.GetPublisher(); p != nil {
		v.text(f("publisher.name"), p.GetName(), false, maxShortText)
		if u := p.GetUri(); u != "" {
			if pu, err := url.Parse(u); err != nil || pu.Scheme == "" || len(u) > maxURL {
				v.add(f("publisher.uri"), "%q is not an absolute URI", u)
			}
		}
	}
	v.count(f("used_by"), len(t.GetUsedBy()))
	for i, u := range t.GetUsedBy() {
		v.text(fmt.Sprintf("%s[%d]", f("used_by"), i), u, true, maxShortText)
	}
	if p := t.GetProvenance(); p != nil {
		v.enum(f("provenance.kind"), p.GetKind(), false)
		v.text(f("provenance.source"), p.GetSource(), false, maxShortText)
		v.text(f("provenance.source_url"), p.GetSourceUrl(), false, maxURL)
		v.text(f("provenance.source_id"), p.GetSourceId(), false, maxShortText)
	}
}

// commitmentID matches OGP commitment identifiers: a member's code and a
// number ("FR0034", "PAR0001").
func commitmentID() *regexp.Regexp { return regexp.MustCompile(`^[A-Z]{2,6}[0-9]{1,6}$`) }

// validateUseCase checks a use case's writable fields.
func validateUseCase(v *violations, prefix string, u *catalogv1.UseCase) {
	f := func(name string) string { return prefix + "." + name }
	switch tool := u.GetTool(); {
	case tool == "":
		v.add(f("tool"), "is required: a tool's resource name (origins/fr/tools/decidim) or its repository or landing URL")
	case strings.HasPrefix(tool, "origins/"):
		if _, _, err := parseName(tool, "tools"); err != nil {
			v.add(f("tool"), "%q is not a tool name of the form origins/{origin}/tools/{tool}", tool)
		}
	default:
		v.url(f("tool"), tool)
	}
	o := u.GetOrganization()
	if o == nil {
		v.add(f("organization"), "is required")
	} else {
		v.text(f("organization.name"), o.GetName(), true, maxShortText)
		v.enum(f("organization.kind"), o.GetKind(), true)
		if c := o.GetCountry(); c == "" {
			v.add(f("organization.country"), "is required")
		} else if r, err := language.ParseRegion(c); err != nil || len(c) != 2 || strings.ToUpper(c) != c || !r.IsCountry() {
			v.add(f("organization.country"), "%q is not an ISO 3166-1 alpha-2 country code (such as FR)", c)
		}
	}
	v.text(f("purpose"), u.GetPurpose(), true, maxPurpose)
	v.count(f("commitments"), len(u.GetCommitments()))
	re := commitmentID()
	for i, c := range u.GetCommitments() {
		if !re.MatchString(c) {
			v.add(fmt.Sprintf("%s[%d]", f("commitments"), i), "%q is not an OGP commitment id (such as FR0034)", c)
		}
	}
	v.noDuplicates(f("commitments"), u.GetCommitments())
	v.url(f("url"), u.GetUrl())
	v.date(f("start_date"), u.GetStartDate(), "2006", "2006-01", time.DateOnly)
	v.enum(f("status"), u.GetStatus(), false)
}

// parseName splits origins/{origin}/{collection}/{id}.
func parseName(name, collection string) (origin, id string, err error) {
	parts := strings.Split(name, "/")
	if len(parts) != 4 || parts[0] != "origins" || parts[2] != collection {
		return "", "", fmt.Errorf("%q is not of the form origins/{origin}/%s/{id}", name, collection)
	}
	if !envelope.ValidOrigin(parts[1]) {
		return "", "", fmt.Errorf("%q: %q is not an origin", name, parts[1])
	}
	if !envelope.ValidID(parts[3]) {
		return "", "", fmt.Errorf("%q: %q is not an id (lowercase letters, digits and hyphens, starting with a letter)", name, parts[3])
	}
	return parts[1], parts[3], nil
}

// parseParent reads origins/{origin}.
func parseParent(parent string) (string, error) {
	origin, ok := strings.CutPrefix(parent, "origins/")
	if !ok || !envelope.ValidOrigin(origin) {
		return "", fmt.Errorf("%q is not of the form origins/{origin}", parent)
	}
	return origin, nil
}
