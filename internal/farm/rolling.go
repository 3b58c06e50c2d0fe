package farm

import (
	"context"
	"sync"
)

// Roll runs step on each of names in order, at most n at once (n < 1 is
// 1): the next starts only when a running one has returned, so with n = 1
// no two overlap. done is called, one call at a time, as each step
// returns. Once ctx ends, the steps not started are done with ctx's error.
func Roll(ctx context.Context, names []string, n int, step func(ctx context.Context, name string) error, done func(name string, err error)) {
	n = max(n, 1)
	sem := make(chan struct{}, n)
	var mu sync.Mutex
	var wg sync.WaitGroup
	finish := func(name string, err error) {
		mu.Lock()
		defer mu.Unlock()
		done(name, err)
	}
	for _, name := range names {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			finish(name, ctx.Err())
			continue
		}
		if err := ctx.Err(); err != nil {
			<-sem
			finish(name, err)
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := step(ctx, name)
			finish(name, err)
			<-sem
		}()
	}
	wg.Wait()
}
