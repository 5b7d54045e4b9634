// Command partita is the Partita database: `partita dev` runs a local node
// serving the DynamoDB API.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// The first signal starts a clean shutdown; from then on the signals
	// have their default effect, so a second one ends the process at once
	// should the shutdown hang.
	context.AfterFunc(ctx, stop)
	if err := newRootCmd().ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "partita:", err)
		stop()
		os.Exit(1)
	}
}
