package host

import (
	"context"
	"net/http"

	"github.com/poolctl/poolctl/events"
	"github.com/poolctl/poolctl/hostapi"
)

// eventRoutes registers GET /v1/events: the events recorded in the state
// directory, oldest file first, one file in memory at a time, for
// `poolctl list event` (which reads the files itself only when no host
// runs). Lines of the files that are not events are sent as skipped.
func (h *Host) eventRoutes(s *hostapi.Server) {
	s.HandleStream("GET "+hostapi.EventsPath, hostapi.Read, func(ctx context.Context, r *http.Request, send func(any) error) error {
		q, err := hostapi.ParseEventQuery(r.URL.Query())
		if err != nil {
			return err
		}
		files, err := events.Files(h.opts.StateDir)
		if err != nil {
			return err
		}
		for _, name := range files {
			if err := ctx.Err(); err != nil {
				return err
			}
			var sendErr error
			evs, err := events.ReadFile(name, func(file string, line int, err error) {
				if sendErr == nil {
					sendErr = send(hostapi.EventLine{Skipped: &hostapi.SkippedEvent{File: file, Line: line, Error: err.Error()}})
				}
			})
			if sendErr != nil {
				return sendErr
			}
			if err != nil {
				return send(hostapi.EventLine{Error: err.Error()})
			}
			for i := range evs {
				if !q.Match(&evs[i]) {
					continue
				}
				if err := send(hostapi.EventLine{Event: &evs[i]}); err != nil {
					return err
				}
			}
		}
		return send(hostapi.EventLine{End: true})
	})
}
