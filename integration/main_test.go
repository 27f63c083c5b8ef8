package integration

import (
	"flag"
	"fmt"
	"os"
	"testing"
)

// clockBoundParallel is how many tests that waitsOnTheClock run at once when -parallel is not
// given. They wait on leases and outages rather than the CPU, so the default (GOMAXPROCS, 2 on
// CI's machines) would leave most of their waiting end to end.
const clockBoundParallel = 4

func TestMain(m *testing.M) {
	flag.Parse()
	explicit := false
	flag.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "test.parallel" })
	if !explicit {
		if err := flag.Set("test.parallel", fmt.Sprint(clockBoundParallel)); err != nil {
			fmt.Fprintln(os.Stderr, "integration: setting -test.parallel:", err)
			os.Exit(2)
		}
	}
	os.Exit(m.Run())
}
