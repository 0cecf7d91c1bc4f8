package web

import (
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
	c, cancel := s.calls(r)
	defer cancel()
	name := recordName(r, "usecases")
	u := call(c, s.catalog.GetUseCase, &catalogv1.GetUseCaseRequest{Name: name})
	if s.failed(w, r, c.err) {
		return
	}
	view := useCaseView{UseCase: u, Name: name, ToolURL: toolURL(u.GetTool()), Own: u.GetOrigin() == s.cfg.Origin}
	if view.ToolURL != "" {
		// The tool may not have reached this node yet: the link stays, the
		// name is the resource name.
		if t, err := s.catalog.GetTool(c.ctx, &catalogv1.GetToolRequest{Name: u.GetTool()}); err == nil {
			view.ToolName = t.GetDisplayName()
		}
	}
	p := s.newPage(w, r, "usecase.title")
	p.Title = p.T("usecase.title_of", u.GetOrganization().GetName())
	p.Content = view
	s.render(w, r, http.StatusOK, "usecase", p)
}
