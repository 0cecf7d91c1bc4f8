package web

import (
	"net/url"
	"strings"

	catalogv1 "github.com/ogptoolbox/federation/gen/ogp/catalog/v1"
)

// useCaseForm is the use-case form as typed.
type useCaseForm struct {
	ID          string // the new use case's id (create only)
	Name        string // the use case's resource name (edit only)
	Etag        string
	Tool        string
	OrgName     string
	OrgKind     string // OrganizationKind name
	OrgCountry  string
	Purpose     string
	Commitments string // comma-separated
	URL         string
	StartDate   string
	Status      string // UseCaseStatus name
}

// useCaseFormPaths are the fields the form edits: an update's mask.
func useCaseFormPaths() []string {
	return []string{"tool", "organization", "purpose", "commitments", "url", "start_date", "status"}
}

func parseUseCaseForm(v url.Values) *useCaseForm {
	return &useCaseForm{
		ID: strings.TrimSpace(v.Get("use_case_id")), Etag: v.Get("etag"), Tool: strings.TrimSpace(v.Get("tool")),
		OrgName: v.Get("org_name"), OrgKind: v.Get("org_kind"), OrgCountry: strings.TrimSpace(v.Get("org_country")),
		Purpose: v.Get("purpose"), Commitments: v.Get("commitments"), URL: strings.TrimSpace(v.Get("url")),
		StartDate: strings.TrimSpace(v.Get("start_date")), Status: v.Get("status"),
	}
}

func useCaseFormOf(u *catalogv1.UseCase) *useCaseForm {
	f := &useCaseForm{
		Name: u.GetName(), Etag: u.GetEtag(), Tool: u.GetTool(), OrgName: u.GetOrganization().GetName(),
		OrgCountry: u.GetOrganization().GetCountry(), Purpose: u.GetPurpose(),
		Commitments: strings.Join(u.GetCommitments(), ", "), URL: u.GetUrl(), StartDate: u.GetStartDate(),
	}
	if k := u.GetOrganization().GetKind(); k != 0 {
		f.OrgKind = k.String()
	}
	if st := u.GetStatus(); st != 0 {
		f.Status = st.String()
	}
	return f
}

// useCase is the use case the form describes; a kind or status that is
// none of the API's goes to errs.
func (f *useCaseForm) useCase(errs *formErrors, p *page) *catalogv1.UseCase {
	u := &catalogv1.UseCase{
		Name: f.Name, Etag: f.Etag, Tool: f.Tool, Purpose: f.Purpose, Commitments: items(f.Commitments),
		Url: f.URL, StartDate: f.StartDate,
		Organization: &catalogv1.Organization{Name: f.OrgName, Country: f.OrgCountry},
	}
	if f.OrgKind != "" {
		if v, ok := catalogv1.OrganizationKind_value[f.OrgKind]; ok {
			u.Organization.Kind = catalogv1.OrganizationKind(v)
		} else {
			errs.add("org_kind", p.T("form.org_kind"), p.T("form.err_no_value", f.OrgKind))
		}
	}
	if f.Status != "" {
		if v, ok := catalogv1.UseCaseStatus_value[f.Status]; ok {
			u.Status = catalogv1.UseCaseStatus(v)
		} else {
			errs.add("status", p.T("form.status"), p.T("form.err_no_value", f.Status))
		}
	}
	return u
}

// useCaseInput is the form input of an API field path.
func useCaseInput(path string) string {
	if path == "use_case_id" {
		return "use_case_id"
	}
	p, ok := strings.CutPrefix(path, "use_case.")
	if !ok {
		return ""
	}
	p = listIndex().ReplaceAllString(p, "")
	switch p {
	case "organization", "organization.name":
		return "org_name"
	case "organization.kind":
		return "org_kind"
	case "organization.country":
		return "org_country"
	case "tool", "purpose", "commitments", "url", "start_date", "status":
		return p
	}
	return ""
}

func (f *useCaseForm) fieldsets(p *page, errs *formErrors, create bool) []fieldset {
	in := func(kind, id, labelKey, hintKey, value string) field {
		fl := field{ID: id, Kind: kind, Label: p.T(labelKey), Value: value, Errors: errs.of(id)}
		if hintKey != "" {
			fl.Hint = p.T(hintKey)
		}
		return fl
	}
	var use []field
	if create {
		use = append(use, in("text", "use_case_id", "form.use_case_id", "form.tool_id_hint", f.ID))
	}
	tool := in("text", "tool", "form.uc_tool", "form.uc_tool_hint", f.Tool)
	tool.Required = true
	purpose := in("textarea", "purpose", "form.purpose", "", f.Purpose)
	purpose.Required, purpose.Rows = true, 5
	status := in("select", "status", "form.status", "", f.Status)
	status.Options = []option{{Value: "", Label: "—", Selected: f.Status == ""}}
	for i := 1; i < len(catalogv1.UseCaseStatus_name); i++ {
		name := catalogv1.UseCaseStatus(i).String()
		status.Options = append(status.Options, option{Value: name, Label: p.T("enum." + name), Selected: name == f.Status})
	}
	use = append(use, tool, purpose,
		in("text", "commitments", "form.commitments", "form.commitments_hint", f.Commitments),
		in("url", "url", "form.uc_url", "form.url_hint", f.URL),
		in("text", "start_date", "form.start_date", "form.start_date_hint", f.StartDate),
		status,
	)
	kind := in("select", "org_kind", "form.org_kind", "", f.OrgKind)
	kind.Required = true
	kind.Options = []option{{Value: "", Label: "—", Selected: f.OrgKind == ""}}
	for i := 1; i < len(catalogv1.OrganizationKind_name); i++ {
		name := catalogv1.OrganizationKind(i).String()
		kind.Options = append(kind.Options, option{Value: name, Label: p.T("enum." + name), Selected: name == f.OrgKind})
	}
	name := in("text", "org_name", "form.org_name", "", f.OrgName)
	name.Required = true
	country := in("text", "org_country", "form.org_country", "form.country_hint", f.OrgCountry)
	country.Required = true
	return []fieldset{
		{Legend: p.T("form.organization"), Fields: []field{name, kind, country}},
		{Legend: p.T("form.use"), Fields: use},
	}
}
