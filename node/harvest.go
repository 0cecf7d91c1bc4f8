package node

import (
	"context"
	"errors"

	catalogv1 "github.com/ogptoolbox/federation/gen/ogp/catalog/v1"
	"github.com/ogptoolbox/federation/harvest"
	"github.com/ogptoolbox/federation/storage"
)

// harvestServer implements HarvestService: imports of what ogpnode harvest
// read, and the reports of every run, the node's own scheduled ones
// included.
type harvestServer struct {
	catalogv1.UnimplementedHarvestServiceServer
	importer *harvest.Importer
	store    *storage.Store
}

func (h *harvestServer) ImportHarvest(ctx context.Context, req *catalogv1.ImportHarvestRequest) (*catalogv1.HarvestRun, error) {
	run, err := h.importer.Import(ctx, req)
	var re *harvest.RequestError
	if errors.As(err, &re) {
		return nil, invalidField(re.Field, "%s", re.Reason)
	}
	return run, statusOf(err)
}

func (h *harvestServer) ListHarvests(ctx context.Context, req *catalogv1.ListHarvestsRequest) (*catalogv1.ListHarvestsResponse, error) {
	size := int(req.GetPageSize())
	switch {
	case size < 0:
		return nil, invalidField("page_size", "%d is negative", size)
	case size == 0:
		size = defaultPageSize
	case size > maxPageSize:
		size = maxPageSize
	}
	runs, err := h.store.HarvestRuns(ctx, req.GetSource(), size)
	if err != nil {
		return nil, statusOf(err)
	}
	return &catalogv1.ListHarvestsResponse{Runs: runs[:fitPage(runs)]}, nil
}
