package node

import (
	"context"
	"errors"

	"github.com/ogptoolbox/federation/storage"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// statusOf maps an error from storage to the gRPC status clients see. It is
// the one place where domain errors become codes; grpc-gateway then maps
// codes to HTTP (NOT_FOUND 404, ABORTED 409, INVALID_ARGUMENT 400...).
func statusOf(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return status.Error(codes.NotFound, err.Error())
	case errors.Is(err, storage.ErrAlreadyExists):
		return status.Error(codes.AlreadyExists, err.Error())
	case errors.Is(err, storage.ErrStale):
		return status.Error(codes.Aborted, err.Error()+": read the record again and reapply your change")
	case errors.Is(err, storage.ErrInvalid):
		return status.Error(codes.InvalidArgument, err.Error())
	case errors.Is(err, storage.ErrUnavailable):
		return status.Error(codes.Unavailable, err.Error())
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, err.Error())
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, err.Error())
	}
	// Internal details stay in the log (the interceptor logs them).
	return status.Error(codes.Internal, "internal error: "+err.Error())
}
