package web

import (
	"encoding/hex"
	"net/http"

	catalogv1 "github.com/ogptoolbox/federation/gen/ogp/catalog/v1"
	federationv1 "github.com/ogptoolbox/federation/gen/ogp/federation/v1"
)

// harvestsShown is how many sources the federation page lists the last
// harvest of, the most recent first.
const harvestsShown = 20

type federationView struct {
	Info      *catalogv1.NodeInfo
	PublicKey string
	Peers     []*federationv1.Peer
	Harvests  []*catalogv1.HarvestRun
}

func (s *Server) federationPage(w http.ResponseWriter, r *http.Request) {
	c, cancel := s.calls(r)
	defer cancel()
	info := call(c, s.catalog.GetNodeInfo, &catalogv1.GetNodeInfoRequest{})
	peers := call(c, s.federation.ListPeers, &federationv1.ListPeersRequest{})
	runs := call(c, s.harvests.ListHarvests, &catalogv1.ListHarvestsRequest{PageSize: harvestsShown, LastOfEachSource: true})
	if s.failed(w, r, c.err) {
		return
	}
	p := s.newPage(w, r, "federation.title")
	p.Content = federationView{Info: info, PublicKey: hex.EncodeToString(info.GetPublicKey()), Peers: peers.GetPeers(), Harvests: runs.GetRuns()}
	s.render(w, r, http.StatusOK, "federation", p)
}
