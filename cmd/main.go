/*
Copyright 2026 The asyncjob Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

// Command asyncjob is one binary for every part of asyncjob:
//
//	asyncjob controller [flags]             reconciles AsyncJobs into batch Jobs
//	asyncjob api [flags]                    serves the REST API
//	asyncjob entrypoint [flags] -- CMD ...  runs a job's command as a worker
//	asyncjob install-entrypoint DEST        copies itself to DEST (the entrypoint's init container)
package main

import (
	"fmt"
	"os"
	"sort"
	"strings"
)

// subcommands maps a name to its entry point; each parses its own flags.
// Each subcommand registers itself from its own file's init.
var subcommands = map[string]func(args []string) error{}

func main() {
	if len(os.Args) < 2 || subcommands[os.Args[1]] == nil {
		names := make([]string, 0, len(subcommands))
		for n := range subcommands {
			names = append(names, n)
		}
		sort.Strings(names)
		fmt.Fprintf(os.Stderr, "usage: asyncjob <%s> [flags]  (asyncjob <subcommand> -h lists the flags)\n", strings.Join(names, "|"))
		os.Exit(2)
	}
	if err := subcommands[os.Args[1]](os.Args[2:]); err != nil {
		fmt.Fprintln(os.Stderr, "asyncjob:", err)
		os.Exit(1)
	}
}
