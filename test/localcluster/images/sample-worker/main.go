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

// Command sample-worker is the worker of config/samples' convert-live type,
// which `make dev` runs on its real node through the injected entrypoint. It
// knows nothing of asyncjob's API: it only follows the worker contract
// (docs/worker-contract.md). It pretends to convert $ASYNCJOB_PARAM_INPUT to
// $ASYNCJOB_PARAM_FORMAT in ten steps spread over $ASYNCJOB_PARAM_SECONDS
// (default 20, as in the type), printing a log line and a progress line
// (`::progress 10 converting: step 1 of 10`) per step, and ends with its
// result as the last JSON line of stdout, or in $ASYNCJOB_RESULT_FILE when
// that is set. The
// entrypoint turns the progress lines into progress callbacks and delivers
// the result.
//
// $ASYNCJOB_PARAM_PADDING, a number of bytes, adds a "padding" field of that
// size to the result, to try results too large for a termination message.
//
// SIGTERM (a cancelled job, a deleted pod), which the entrypoint forwards,
// stops it at once: it says so on stderr and exits 143, as a shell would.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

const steps = 10

// Result is what the worker returns. Its fields are in the order of their
// names, as the job's result comes back from the API (the Kubernetes API
// server keeps JSON objects with their keys sorted), so the bytes it prints
// are the bytes a client reads.
type Result struct {
	Format  string `json:"format"`
	Input   string `json:"input"`
	Output  string `json:"output"`
	Padding string `json:"padding,omitempty"`
	Steps   int    `json:"steps"`
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "sample-worker:", err)
		os.Exit(1)
	}
}

func run() error {
	input, format := os.Getenv("ASYNCJOB_PARAM_INPUT"), os.Getenv("ASYNCJOB_PARAM_FORMAT")
	seconds, err := number("ASYNCJOB_PARAM_SECONDS", 20)
	if err != nil {
		return err
	}
	padding, err := number("ASYNCJOB_PARAM_PADDING", 0)
	if err != nil {
		return err
	}
	terminated := make(chan os.Signal, 1)
	signal.Notify(terminated, syscall.SIGTERM, syscall.SIGINT)

	fmt.Printf("sample-worker: converting %s to %s in %d steps over %ds\n", input, format, steps, seconds)
	step := time.Duration(seconds) * time.Second / steps
	for i := 1; i <= steps; i++ {
		select {
		case sig := <-terminated:
			fmt.Fprintf(os.Stderr, "sample-worker: received %s during step %d of %d; stopping\n", signalName(sig), i, steps)
			os.Exit(128 + int(sig.(syscall.Signal)))
		case <-time.After(step):
		}
		fmt.Printf("sample-worker: frames %d-%d encoded\n", (i-1)*260, i*260-1)
		fmt.Printf("::progress %d converting: step %d of %d\n", i*100/steps, i, steps)
	}

	result, err := json.Marshal(Result{
		Output: fmt.Sprintf("%s.%s", os.Getenv("ASYNCJOB_ID"), format),
		Input:  input, Format: format, Steps: steps,
		Padding: strings.Repeat("0123456789abcdef", padding/16+1)[:padding],
	})
	if err != nil {
		return err
	}
	if file := os.Getenv("ASYNCJOB_RESULT_FILE"); file != "" {
		fmt.Println("sample-worker: done, result in", file)
		return os.WriteFile(file, result, 0o644)
	}
	fmt.Println("sample-worker: done")
	fmt.Println(string(result))
	return nil
}

// number is the environment variable name as a non-negative integer, or def
// when it is unset or empty.
func number(name string, def int) (int, error) {
	v := os.Getenv(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%s=%q: want a non-negative integer", name, v)
	}
	return n, nil
}

func signalName(sig os.Signal) string {
	if sig == syscall.SIGTERM {
		return "SIGTERM"
	}
	return "SIGINT"
}
