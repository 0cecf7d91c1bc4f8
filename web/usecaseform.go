package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	catalogv1 "github.com/ogptoolbox/federation/gen/ogp/catalog/v1"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
)

// useCaseForm is the use-case form as typed.
type useCaseForm struct {
	formBase
	Tool        string
	OrgName     string
	OrgKind     string // OrganizationKind name
	OrgCountry  string
	Purpose     string
	Commitments string // comma-separated
	URL         string
	StartDate   string
	Status      string // UseCaseStatus name

	was *catalogv1.UseCase // the version edited, still current (see editing)
}

// useCaseCuration is how the pages curate the node's use cases.
func useCaseCuration(s *Server) *curation[*catalogv1.UseCase, *useCaseForm] {
	return &curation[*catalogv1.UseCase, *useCaseForm]{
		s: s, kind: "use_case", collection: "usecases", parse: parseUseCaseForm, formOf: useCaseFormOf,
		blank: func(r *http.Request, _ *page) *useCaseForm { return &useCaseForm{Tool: r.URL.Query().Get("tool")} },
		get: func(ctx context.Context, name string) (*catalogv1.UseCase, error) {
			return s.catalog.GetUseCase(ctx, &catalogv1.GetUseCaseRequest{Name: name})
		},
		remove: func(ctx context.Context, name, etag string) (*emptypb.Empty, error) {
			return s.catalog.DeleteUseCase(ctx, &catalogv1.DeleteUseCaseRequest{Name: name, Etag: etag})
		},
	}
}

func parseUseCaseForm(v url.Values) *useCaseForm {
	return &useCaseForm{
		formBase: formBase{ID: strings.TrimSpace(v.Get("use_case_id")), Etag: v.Get("etag")}, Tool: strings.TrimSpace(v.Get("tool")),
		OrgName: v.Get("org_name"), OrgKind: v.Get("org_kind"), OrgCountry: strings.TrimSpace(v.Get("org_country")),
		Purpose: textareaText(v.Get("purpose")), Commitments: v.Get("commitments"), URL: strings.TrimSpace(v.Get("url")),
		StartDate: strings.TrimSpace(v.Get("start_date")), Status: v.Get("status"),
	}
}

func useCaseFormOf(u *catalogv1.UseCase) *useCaseForm {
	f := &useCaseForm{
		formBase: formBase{Name: u.GetName(), Etag: u.GetEtag()}, Tool: u.GetTool(), OrgName: u.GetOrganization().GetName(),
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

// record is the use case the form describes; a kind or status that is
// none of the API's goes to errs.
func (f *useCaseForm) record(errs *formErrors, p *page) *catalogv1.UseCase {
	u := &catalogv1.UseCase{
		Name: f.Name, Etag: f.Etag, Tool: f.Tool, Purpose: f.Purpose, Commitments: items(f.Commitments),
		Url: f.URL, StartDate: f.StartDate,
		Organization: &catalogv1.Organization{Name: f.OrgName, Country: f.OrgCountry},
	}
	if was := f.was; was != nil {
		// What the curator left as the form showed it keeps the edited
		// version's value, which the form's text may not hold exactly:
		// a name holding a newline (which an input drops), a purpose's
		// line ends, spaces around a value read trimmed.
		shown := useCaseFormOf(was)
		u.Organization.Name = keptInput(f.OrgName, shown.OrgName, was.GetOrganization().GetName())
		u.Organization.Country = keptTrimmed(f.OrgCountry, shown.OrgCountry, was.GetOrganization().GetCountry())
		if sameText(f.Purpose, shown.Purpose) {
			u.Purpose = was.GetPurpose()
		}
		u.Tool = keptTrimmed(f.Tool, shown.Tool, was.GetTool())
		u.Url = keptTrimmed(f.URL, shown.URL, was.GetUrl())
		u.StartDate = keptTrimmed(f.StartDate, shown.StartDate, was.GetStartDate())
		if inputShows(f.Commitments, shown.Commitments) {
			u.Commitments = was.GetCommitments()
		}
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

// create makes u, the use case the form describes, in parent, with the
// form's id.
func (f *useCaseForm) create(ctx context.Context, c catalogv1.CatalogServiceClient, parent string, u *catalogv1.UseCase) (*catalogv1.UseCase, error) {
	return c.CreateUseCase(ctx, &catalogv1.CreateUseCaseRequest{Parent: parent, UseCaseId: f.ID, UseCase: u})
}

// update writes u, the use case the form describes, but only the fields
// the form edits.
func (f *useCaseForm) update(ctx context.Context, c catalogv1.CatalogServiceClient, u *catalogv1.UseCase) (*catalogv1.UseCase, error) {
	return c.UpdateUseCase(ctx, &catalogv1.UpdateUseCaseRequest{UseCase: u, UpdateMask: &fieldmaskpb.FieldMask{Paths: f.fields()}})
}

// fields are the fields of a use case the form edits.
func (f *useCaseForm) fields() []string {
	return []string{"tool", "organization", "purpose", "commitments", "url", "start_date", "status"}
}

// input is the form input of a field path of the use case.
func (f *useCaseForm) input(p string) string {
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

func (f *useCaseForm) title() string { return f.OrgName }

// editing keeps the version edited, still current, to compare the form
// posted with what it showed (see record).
func (f *useCaseForm) editing(was *catalogv1.UseCase) { f.was = was }

// view lays the form out; a new use case's form goes back to its tool's
// page when it names one.
func (f *useCaseForm) view(p *page, errs *formErrors, create bool) formView {
	v := formView{Fieldsets: f.fieldsets(p, errs, create), Cancel: "/"}
	if u := toolURL(f.Tool); u != "" {
		v.Cancel = u
	}
	return v
}

func (f *useCaseForm) fieldsets(p *page, errs *formErrors, create bool) []fieldset {
	in := inputs(p, errs)
	var use []field
	if create {
		use = append(use, in("text", "use_case_id", "form.use_case_id", "form.tool_id_hint", f.ID))
	}
	tool := in("text", "tool", "form.uc_tool", "form.uc_tool_hint", f.Tool)
	tool.Required = true
	purpose := in("textarea", "purpose", "form.purpose", "", f.Purpose)
	purpose.Required, purpose.Rows = true, 5
	status := in("select", "status", "form.status", "", f.Status)
	status.Options = enumOptions(p, f.Status, catalogv1.UseCaseStatus_name)
	use = append(use, tool, purpose,
		in("text", "commitments", "form.commitments", "form.commitments_hint", f.Commitments),
		in("url", "url", "form.uc_url", "form.url_hint", f.URL),
		in("text", "start_date", "form.start_date", "form.start_date_hint", f.StartDate),
		status,
	)
	kind := in("select", "org_kind", "form.org_kind", "", f.OrgKind)
	kind.Required = true
	kind.Options = enumOptions(p, f.OrgKind, catalogv1.OrganizationKind_name)
	name := in("text", "org_name", "form.org_name", "", f.OrgName)
	name.Required = true
	country := in("text", "org_country", "form.org_country", "form.country_hint", f.OrgCountry)
	country.Required = true
	return []fieldset{
		{Legend: p.T("form.organization"), Fields: []field{name, kind, country}},
		{Legend: p.T("form.use"), Fields: use},
	}
}
