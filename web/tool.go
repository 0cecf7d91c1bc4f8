package web

import (
	"encoding/hex"
	"net/http"
	"sort"

	catalogv1 "github.com/ogptoolbox/federation/gen/ogp/catalog/v1"
)

type toolView struct {
	Tool       *catalogv1.Tool
	Name       string // the resource name
	Desc       describedIn
	Others     []describedIn // the descriptions in other languages
	Adoption   *catalogv1.ToolAdoption
	Duplicates []*catalogv1.Tool // other records of the same software
	Own        bool              // of the node's origin: the curator may edit it
	OwnKey     string            // the node's public key, hex, when Own
}

func (s *Server) toolPage(w http.ResponseWriter, r *http.Request) {
	c, cancel := s.calls(r)
	defer cancel()
	name := recordName(r, "tools")
	t := call(c, s.catalog.GetTool, &catalogv1.GetToolRequest{Name: name})
	adoption := call(c, s.catalog.GetToolAdoption, &catalogv1.GetToolAdoptionRequest{Name: name})
	if s.failed(w, r, c.err) {
		return
	}
	p := s.newPage(w, r, "tool.title")
	p.Title = t.GetDisplayName()
	view := toolView{Tool: t, Name: name, Desc: p.Description(t), Adoption: adoption, Own: t.GetOrigin() == s.cfg.Origin}
	langs := make([]string, 0, len(t.GetDescriptions()))
	for l := range t.GetDescriptions() {
		if l != view.Desc.Lang {
			langs = append(langs, l)
		}
	}
	sort.Strings(langs)
	for _, l := range langs {
		view.Others = append(view.Others, describedIn{Lang: l, Description: t.GetDescriptions()[l]})
	}
	for _, d := range adoption.GetTools() {
		if d.GetName() != name {
			view.Duplicates = append(view.Duplicates, d)
		}
	}
	if view.Own {
		info := call(c, s.catalog.GetNodeInfo, &catalogv1.GetNodeInfoRequest{})
		if s.failed(w, r, c.err) {
			return
		}
		view.OwnKey = hex.EncodeToString(info.GetPublicKey())
	}
	p.Content = view
	s.render(w, r, http.StatusOK, "tool", p)
}
