// Loads a compose file with compose-go, the loader of `docker compose` itself, and prints the
// resolved project as JSON (what `docker compose config --format json` prints). Schema
// validation, interpolation, merges and consistency checks fail with the loader's message.
//
//	go run . <compose file>
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/compose-spec/compose-go/v2/cli"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: go run . <compose file>")
		os.Exit(2)
	}
	// No environment and no .env file: the stack must come up on its defaults. Every profile,
	// so services outside the default one are checked too.
	options, err := cli.NewProjectOptions(os.Args[1:], cli.WithEnv(nil), cli.WithProfiles([]string{"*"}))
	if err != nil {
		fail(err)
	}
	project, err := options.LoadProject(context.Background())
	if err != nil {
		fail(err)
	}
	out, err := project.MarshalJSON()
	if err != nil {
		fail(err)
	}
	os.Stdout.Write(out)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}
