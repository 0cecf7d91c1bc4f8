package node

import (
	"context"
	"errors"
	"io"

	catalogv1 "github.com/ogptoolbox/federation/gen/ogp/catalog/v1"
	"github.com/ogptoolbox/federation/harvest"
	"github.com/ogptoolbox/federation/storage"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
)

// harvestServer implements HarvestService: imports of what ogpnode harvest
// read, and the reports of every run, the node's own scheduled ones
// included.
type harvestServer struct {
	catalogv1.UnimplementedHarvestServiceServer
	importer *harvest.Importer
	store    *storage.Store
	// An import sent in parts takes parts of maxPartBytes at most
	// (--max-request-bytes), maxBytes in all (--max-harvest-bytes).
	maxPartBytes, maxBytes int
}

func (h *harvestServer) ImportHarvest(ctx context.Context, req *catalogv1.ImportHarvestRequest) (*catalogv1.HarvestRun, error) {
	run, err := h.importer.Import(ctx, req)
	var re *harvest.RequestError
	if errors.As(err, &re) {
		return nil, invalidField(re.Field, "%s", re.Reason)
	}
	return run, statusOf(err)
}

// ImportHarvestInParts gathers the parts of one request, then imports it
// as ImportHarvest does. Entries are numbered across parts in the
// importer's errors, as in the request they make together.
func (h *harvestServer) ImportHarvestInParts(stream grpc.ClientStreamingServer[catalogv1.ImportHarvestInPartsRequest, catalogv1.HarvestRun]) error {
	var req *catalogv1.ImportHarvestRequest
	total := 0
	for n := 1; ; n++ {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err // the stream was cut short: nothing is imported
		}
		part := msg.GetPart()
		if part == nil {
			return invalidField("part", "is required: part %d holds none", n)
		}
		size := proto.Size(msg)
		if size > h.maxPartBytes {
			return invalidField("part", "part %d is %d bytes, more than the %d this node takes of a request", n, size, h.maxPartBytes)
		}
		if total += size; total > h.maxBytes {
			return invalidField("part", "the parts come to more than the %d bytes this node takes of a harvest import (--max-harvest-bytes), at part %d", h.maxBytes, n)
		}
		if req == nil {
			req = part
			continue
		}
		for _, f := range []struct {
			name string
			set  bool
		}{
			{"source", part.GetSource() != nil}, {"complete", part.GetComplete()},
			{"read_error", part.GetReadError() != ""}, {"start_time", part.GetStartTime() != nil},
		} {
			if f.set {
				return invalidField("part."+f.name, "is taken from the first part only, and part %d sets it", n)
			}
		}
		req.Entries = append(req.Entries, part.GetEntries()...)
		req.Rejected = append(req.Rejected, part.GetRejected()...)
	}
	if req == nil {
		return invalidField("part", "is required: the stream sent no part")
	}
	run, err := h.ImportHarvest(stream.Context(), req)
	if err != nil {
		return err
	}
	return stream.SendAndClose(run)
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
	var runs []*catalogv1.HarvestRun
	var err error
	switch {
	case req.GetLastOfEachSource() && req.GetSource() != "":
		runs, err = h.store.HarvestRuns(ctx, req.GetSource(), 1)
	case req.GetLastOfEachSource():
		runs, err = h.store.LastHarvestRuns(ctx, size)
	default:
		runs, err = h.store.HarvestRuns(ctx, req.GetSource(), size)
	}
	if err != nil {
		return nil, statusOf(err)
	}
	return &catalogv1.ListHarvestsResponse{Runs: runs[:fitPage(runs)]}, nil
}
