package web

import (
	"context"
	"net/http"

	catalogv1 "github.com/ogptoolbox/federation/gen/ogp/catalog/v1"
)

type useCaseView struct {
	UseCase  *catalogv1.UseCase
	Name     string
	ToolURL  string // the tool's page, when the use case names a tool of the federation
	ToolName string // the tool's display name, when the node holds it
	Own      bool
}

func (s *Server) useCasePage(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), callTimeout)
	defer cancel()
	name := "origins/" + r.PathValue("origin") + "/usecases/" + r.PathValue("id")
	u, err := s.catalog.GetUseCase(ctx, &catalogv1.GetUseCaseRequest{Name: name})
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	view := useCaseView{UseCase: u, Name: name, ToolURL: toolURL(u.GetTool()), Own: u.GetOrigin() == s.cfg.Origin}
	if view.ToolURL != "" {
		// The tool may not have reached this node yet: the link stays, the
		// name is the resource name.
		if t, err := s.catalog.GetTool(ctx, &catalogv1.GetToolRequest{Name: u.GetTool()}); err == nil {
			view.ToolName = t.GetDisplayName()
		}
	}
	p := s.newPage(w, r, "usecase.title")
	p.Title = p.T("usecase.title_of", u.GetOrganization().GetName())
	p.Content = view
	s.render(w, r, http.StatusOK, "usecase", p)
}
