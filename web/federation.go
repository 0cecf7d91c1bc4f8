package web

import (
	"context"
	"encoding/hex"
	"net/http"

	catalogv1 "github.com/ogptoolbox/federation/gen/ogp/catalog/v1"
	federationv1 "github.com/ogptoolbox/federation/gen/ogp/federation/v1"
)

// harvestsShown is how many of the last harvests the federation page
// lists.
const harvestsShown = 10

type federationView struct {
	Info      *catalogv1.NodeInfo
	PublicKey string
	Peers     []*federationv1.Peer
	Harvests  []*catalogv1.HarvestRun
}

func (s *Server) federationPage(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), callTimeout)
	defer cancel()
	info, err := s.catalog.GetNodeInfo(ctx, &catalogv1.GetNodeInfoRequest{})
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	peers, err := s.federation.ListPeers(ctx, &federationv1.ListPeersRequest{})
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	runs, err := s.harvests.ListHarvests(ctx, &catalogv1.ListHarvestsRequest{PageSize: harvestsShown})
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	p := s.newPage(w, r, "federation.title")
	p.Content = federationView{Info: info, PublicKey: hex.EncodeToString(info.GetPublicKey()), Peers: peers.GetPeers(), Harvests: runs.GetRuns()}
	s.render(w, r, http.StatusOK, "federation", p)
}
