package sync

import (
	"context"
	"errors"
	"fmt"
	"io"

	federationv1 "github.com/ogptoolbox/federation/gen/ogp/federation/v1"
	"github.com/ogptoolbox/federation/storage"
	"google.golang.org/grpc"
)

// PullResult counts what one pull brought.
type PullResult struct {
	Pages           int            // pages applied
	Applied         int            // records that changed the catalog
	AppliedByOrigin map[string]int // the same, by origin
}

// PullFrom pulls from the peer behind conn every record it holds that store
// lacks, of every origin but store's own, applying each page as it comes.
// It stops at the first page the store refuses (a *storage.RefusedError,
// wrapped): a peer sending bad pages is not asked for more.
func PullFrom(ctx context.Context, store *storage.Store, conn grpc.ClientConnInterface, pageBytes int) (PullResult, error) {
	var res PullResult
	wms, err := store.Watermarks(ctx)
	if err != nil {
		return res, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // ends the stream when a page is refused
	stream, err := federationv1.NewFederationServiceClient(conn).Pull(ctx, &federationv1.PullRequest{
		Watermarks:     wms,
		AllOrigins:     true,
		ExcludeOrigins: []string{store.Origin()},
		MaxPageBytes:   int32(pageBytes),
	})
	if err != nil {
		return res, fmt.Errorf("pull: %w", err)
	}
	for {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return res, nil
		}
		if err != nil {
			return res, fmt.Errorf("pull: %w", err)
		}
		n, err := store.ApplyPage(ctx, msg.GetPage())
		if err != nil {
			return res, fmt.Errorf("pull: %w", err)
		}
		res.Pages++
		res.Applied += n
		if n > 0 {
			if res.AppliedByOrigin == nil {
				res.AppliedByOrigin = map[string]int{}
			}
			res.AppliedByOrigin[msg.GetPage().GetOrigin()] += n
		}
	}
}
