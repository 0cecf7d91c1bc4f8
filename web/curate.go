package web

import (
	"context"
	"net/http"
	"strconv"

	catalogv1 "github.com/ogptoolbox/federation/gen/ogp/catalog/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
)

// formView is the content of a form page, tool or use case alike: the
// fields are laid out in Go, and one template renders any of them.
type formView struct {
	Heading   string
	Action    string
	Submit    string
	Cancel    string
	Notice    string // a change by someone else, refused
	Fieldsets []fieldset
	Errors    *formErrors
	Hidden    [][2]string
}

// confirmView is the content of a delete's confirmation.
type confirmView struct {
	Question string
	Action   string
	Cancel   string
	Etag     string
	Notice   string
}

// doneView is the content of the page after a delete.
type doneView struct {
	Message string
}

// authorized is ctx with the admin token for a write: the session proved
// the curator holds it, and the API checks it again.
func (s *Server) authorized(ctx context.Context) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+s.cfg.AdminToken)
}

// ownOnly refuses to curate a record of another origin: only its own node
// writes it. It answers and returns false when the origin is not ours.
func (s *Server) ownOnly(w http.ResponseWriter, r *http.Request) bool {
	if o := r.PathValue("origin"); o != s.cfg.Origin {
		s.errorPage(w, r, http.StatusForbidden, "error.not_own", "", o, s.cfg.Origin)
		return false
	}
	return true
}

// addViolations puts an API error's field violations beside their inputs;
// it returns false when the error has none (it is not the form's fault).
func addViolations(errs *formErrors, err error, input func(string) string) bool {
	vs := violations(err)
	for _, v := range vs {
		errs.add(input(v.GetField()), v.GetField(), v.GetDescription())
	}
	return len(vs) > 0
}

func (s *Server) renderToolForm(w http.ResponseWriter, r *http.Request, p *page, code int, f *toolForm, errs *formErrors, notice string) {
	create := f.Name == ""
	// A block to add a language, always.
	if n := len(f.Descriptions); n == 0 || (!f.Descriptions[n-1].empty() && n < maxDescriptionBlocks) {
		f.Descriptions = append(f.Descriptions, descForm{})
	}
	v := formView{Fieldsets: labelFields(p, f.fieldsets(p, errs, create)), Errors: errs, Notice: notice,
		Hidden: [][2]string{{"descriptions", strconv.Itoa(len(f.Descriptions))}}}
	if create {
		p.Title = p.T("form.new_tool")
		v.Heading, v.Action, v.Submit, v.Cancel = p.Title, "/tools/new", p.T("form.create"), "/"
	} else {
		p.Title = p.T("form.edit_tool", f.DisplayName)
		v.Heading, v.Action, v.Submit, v.Cancel = p.Title, toolURL(f.Name)+"/edit", p.T("form.save"), toolURL(f.Name)
		v.Hidden = append(v.Hidden, [2]string{"etag", f.Etag})
	}
	p.Content = v
	s.render(w, r, code, "form", p)
}

func (s *Server) newTool(w http.ResponseWriter, r *http.Request) {
	p := s.newPage(w, r, "form.new_tool")
	s.renderToolForm(w, r, p, http.StatusOK, &toolForm{Descriptions: []descForm{{Lang: p.Lang}}}, &formErrors{}, "")
}

func (s *Server) createTool(w http.ResponseWriter, r *http.Request) {
	p := s.newPage(w, r, "form.new_tool")
	f := parseToolForm(r.PostForm)
	var errs formErrors
	t := f.tool(&errs, p)
	if errs.Any() {
		s.renderToolForm(w, r, p, http.StatusBadRequest, f, &errs, "")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), callTimeout)
	defer cancel()
	created, err := s.catalog.CreateTool(s.authorized(ctx), &catalogv1.CreateToolRequest{Parent: "origins/" + s.cfg.Origin, ToolId: f.ID, Tool: t})
	switch {
	case err == nil:
		s.log.Info("created a tool from the pages", "name", created.GetName())
		http.Redirect(w, r, toolURL(created.GetName()), http.StatusSeeOther)
	case addViolations(&errs, err, f.toolInput):
		s.renderToolForm(w, r, p, http.StatusBadRequest, f, &errs, "")
	case status.Code(err) == codes.AlreadyExists:
		errs.add("tool_id", "tool_id", status.Convert(err).Message())
		s.renderToolForm(w, r, p, http.StatusConflict, f, &errs, "")
	default:
		s.apiError(w, r, err)
	}
}

func (s *Server) editTool(w http.ResponseWriter, r *http.Request) {
	if !s.ownOnly(w, r) {
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), callTimeout)
	defer cancel()
	t, err := s.catalog.GetTool(ctx, &catalogv1.GetToolRequest{Name: toolName(r)})
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	s.renderToolForm(w, r, s.newPage(w, r, "form.edit"), http.StatusOK, toolFormOf(t), &formErrors{}, "")
}

func (s *Server) updateTool(w http.ResponseWriter, r *http.Request) {
	if !s.ownOnly(w, r) {
		return
	}
	p := s.newPage(w, r, "form.edit")
	f := parseToolForm(r.PostForm)
	f.Name = toolName(r)
	var errs formErrors
	t := f.tool(&errs, p)
	if errs.Any() {
		s.renderToolForm(w, r, p, http.StatusBadRequest, f, &errs, "")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), callTimeout)
	defer cancel()
	_, err := s.catalog.UpdateTool(s.authorized(ctx), &catalogv1.UpdateToolRequest{Tool: t, UpdateMask: &fieldmaskpb.FieldMask{Paths: toolFormPaths()}})
	switch {
	case err == nil:
		s.log.Info("updated a tool from the pages", "name", f.Name)
		http.Redirect(w, r, toolURL(f.Name), http.StatusSeeOther)
	case addViolations(&errs, err, f.toolInput):
		s.renderToolForm(w, r, p, http.StatusBadRequest, f, &errs, "")
	case status.Code(err) == codes.Aborted:
		// Someone changed the tool since the form was opened: keep what
		// the curator typed, say so, and let the next save be made against
		// the version now current, once they have looked at it.
		current, gerr := s.catalog.GetTool(ctx, &catalogv1.GetToolRequest{Name: f.Name})
		if gerr != nil {
			s.apiError(w, r, gerr)
			return
		}
		f.Etag = current.GetEtag()
		s.renderToolForm(w, r, p, http.StatusConflict, f, &errs, p.T("form.conflict"))
	default:
		s.apiError(w, r, err)
	}
}

func (s *Server) confirmDeleteTool(w http.ResponseWriter, r *http.Request) {
	if !s.ownOnly(w, r) {
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), callTimeout)
	defer cancel()
	t, err := s.catalog.GetTool(ctx, &catalogv1.GetToolRequest{Name: toolName(r)})
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	s.renderConfirm(w, r, http.StatusOK, t.GetDisplayName(), toolURL(t.GetName()), t.GetEtag(), "")
}

// renderConfirm asks to confirm a delete; noticeKey, when set, says why
// it asks again.
func (s *Server) renderConfirm(w http.ResponseWriter, r *http.Request, code int, title, url, etag, noticeKey string) {
	p := s.newPage(w, r, "confirm.title")
	p.Title = p.T("confirm.title_of", title)
	v := confirmView{Question: p.T("confirm.question", title), Action: url + "/delete", Cancel: url, Etag: etag}
	if noticeKey != "" {
		v.Notice = p.T(noticeKey)
	}
	p.Content = v
	s.render(w, r, code, "confirm", p)
}

func (s *Server) deleteTool(w http.ResponseWriter, r *http.Request) {
	if !s.ownOnly(w, r) {
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), callTimeout)
	defer cancel()
	name := toolName(r)
	_, err := s.catalog.DeleteTool(s.authorized(ctx), &catalogv1.DeleteToolRequest{Name: name, Etag: r.PostFormValue("etag")})
	s.deleted(ctx, w, r, err, name, func(ctx context.Context) (string, string, error) {
		t, err := s.catalog.GetTool(ctx, &catalogv1.GetToolRequest{Name: name})
		return t.GetDisplayName(), t.GetEtag(), err
	})
}

// deleted answers a delete: done, or, when the record changed since the
// confirmation was shown, the confirmation again with the current version.
func (s *Server) deleted(ctx context.Context, w http.ResponseWriter, r *http.Request, err error, name string, current func(context.Context) (title, etag string, err error)) {
	switch {
	case err == nil:
		s.log.Info("deleted a record from the pages", "name", name)
		p := s.newPage(w, r, "done.title")
		p.Content = doneView{Message: p.T("done.deleted", name)}
		s.render(w, r, http.StatusOK, "done", p)
	case status.Code(err) == codes.Aborted:
		title, etag, gerr := current(ctx)
		if gerr != nil {
			s.apiError(w, r, gerr)
			return
		}
		url := toolURL(name)
		if url == "" {
			url = useCaseURL(name)
		}
		s.renderConfirm(w, r, http.StatusConflict, title, url, etag, "confirm.changed")
	default:
		s.apiError(w, r, err)
	}
}

func (s *Server) renderUseCaseForm(w http.ResponseWriter, r *http.Request, p *page, code int, f *useCaseForm, errs *formErrors, notice string) {
	create := f.Name == ""
	v := formView{Fieldsets: labelFields(p, f.fieldsets(p, errs, create)), Errors: errs, Notice: notice}
	if create {
		p.Title = p.T("form.new_use_case")
		v.Heading, v.Action, v.Submit, v.Cancel = p.Title, "/usecases/new", p.T("form.create"), "/"
		if u := toolURL(f.Tool); u != "" {
			v.Cancel = u
		}
	} else {
		p.Title = p.T("form.edit_use_case", f.OrgName)
		v.Heading, v.Action, v.Submit, v.Cancel = p.Title, useCaseURL(f.Name)+"/edit", p.T("form.save"), useCaseURL(f.Name)
		v.Hidden = append(v.Hidden, [2]string{"etag", f.Etag})
	}
	p.Content = v
	s.render(w, r, code, "form", p)
}

func (s *Server) newUseCase(w http.ResponseWriter, r *http.Request) {
	p := s.newPage(w, r, "form.new_use_case")
	s.renderUseCaseForm(w, r, p, http.StatusOK, &useCaseForm{Tool: r.URL.Query().Get("tool")}, &formErrors{}, "")
}

func (s *Server) createUseCase(w http.ResponseWriter, r *http.Request) {
	p := s.newPage(w, r, "form.new_use_case")
	f := parseUseCaseForm(r.PostForm)
	var errs formErrors
	u := f.useCase(&errs, p)
	if errs.Any() {
		s.renderUseCaseForm(w, r, p, http.StatusBadRequest, f, &errs, "")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), callTimeout)
	defer cancel()
	created, err := s.catalog.CreateUseCase(s.authorized(ctx), &catalogv1.CreateUseCaseRequest{Parent: "origins/" + s.cfg.Origin, UseCaseId: f.ID, UseCase: u})
	switch {
	case err == nil:
		s.log.Info("created a use case from the pages", "name", created.GetName())
		http.Redirect(w, r, useCaseURL(created.GetName()), http.StatusSeeOther)
	case addViolations(&errs, err, useCaseInput):
		s.renderUseCaseForm(w, r, p, http.StatusBadRequest, f, &errs, "")
	case status.Code(err) == codes.AlreadyExists:
		errs.add("use_case_id", "use_case_id", status.Convert(err).Message())
		s.renderUseCaseForm(w, r, p, http.StatusConflict, f, &errs, "")
	default:
		s.apiError(w, r, err)
	}
}

func useCaseName(r *http.Request) string {
	return "origins/" + r.PathValue("origin") + "/usecases/" + r.PathValue("id")
}

func (s *Server) editUseCase(w http.ResponseWriter, r *http.Request) {
	if !s.ownOnly(w, r) {
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), callTimeout)
	defer cancel()
	u, err := s.catalog.GetUseCase(ctx, &catalogv1.GetUseCaseRequest{Name: useCaseName(r)})
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	s.renderUseCaseForm(w, r, s.newPage(w, r, "form.edit"), http.StatusOK, useCaseFormOf(u), &formErrors{}, "")
}

func (s *Server) updateUseCase(w http.ResponseWriter, r *http.Request) {
	if !s.ownOnly(w, r) {
		return
	}
	p := s.newPage(w, r, "form.edit")
	f := parseUseCaseForm(r.PostForm)
	f.Name = useCaseName(r)
	var errs formErrors
	u := f.useCase(&errs, p)
	if errs.Any() {
		s.renderUseCaseForm(w, r, p, http.StatusBadRequest, f, &errs, "")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), callTimeout)
	defer cancel()
	_, err := s.catalog.UpdateUseCase(s.authorized(ctx), &catalogv1.UpdateUseCaseRequest{UseCase: u, UpdateMask: &fieldmaskpb.FieldMask{Paths: useCaseFormPaths()}})
	switch {
	case err == nil:
		s.log.Info("updated a use case from the pages", "name", f.Name)
		http.Redirect(w, r, useCaseURL(f.Name), http.StatusSeeOther)
	case addViolations(&errs, err, useCaseInput):
		s.renderUseCaseForm(w, r, p, http.StatusBadRequest, f, &errs, "")
	case status.Code(err) == codes.Aborted:
		current, gerr := s.catalog.GetUseCase(ctx, &catalogv1.GetUseCaseRequest{Name: f.Name})
		if gerr != nil {
			s.apiError(w, r, gerr)
			return
		}
		f.Etag = current.GetEtag()
		s.renderUseCaseForm(w, r, p, http.StatusConflict, f, &errs, p.T("form.conflict"))
	default:
		s.apiError(w, r, err)
	}
}

func (s *Server) confirmDeleteUseCase(w http.ResponseWriter, r *http.Request) {
	if !s.ownOnly(w, r) {
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), callTimeout)
	defer cancel()
	u, err := s.catalog.GetUseCase(ctx, &catalogv1.GetUseCaseRequest{Name: useCaseName(r)})
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	s.renderConfirm(w, r, http.StatusOK, u.GetOrganization().GetName(), useCaseURL(u.GetName()), u.GetEtag(), "")
}

func (s *Server) deleteUseCase(w http.ResponseWriter, r *http.Request) {
	if !s.ownOnly(w, r) {
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), callTimeout)
	defer cancel()
	name := useCaseName(r)
	_, err := s.catalog.DeleteUseCase(s.authorized(ctx), &catalogv1.DeleteUseCaseRequest{Name: name, Etag: r.PostFormValue("etag")})
	s.deleted(ctx, w, r, err, name, func(ctx context.Context) (string, string, error) {
		u, err := s.catalog.GetUseCase(ctx, &catalogv1.GetUseCaseRequest{Name: name})
		return u.GetOrganization().GetName(), u.GetEtag(), err
	})
}
