package apppool

// onFreshStack runs f on a goroutine of its own and waits for it: for the
// loop, it is as if f ran there. A pool's loop parks most of its life, but
// the checks it runs every second (tick) go deep (reading /proc and cgroup
// files, formatting): run on the loop itself, they would keep its stack at
// their high-water mark, 8 to 16 KB for each of hundreds of pools between
// garbage collections. A goroutine that ends gives its grown stack back.
func onFreshStack(f func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	<-done
}
