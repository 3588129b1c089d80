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

// Command worker is the test workload image's only binary for the local
// cluster's real node: it logs, writes WORKER_RESULT (default a small JSON
// document) as its termination message and exits with WORKER_EXIT_CODE.
package main

import (
	"fmt"
	"os"
	"strconv"
)

func main() {
	result := os.Getenv("WORKER_RESULT")
	if result == "" {
		result = `{"worker":"done"}`
	}
	fmt.Println("worker: started")
	if err := os.WriteFile("/dev/termination-log", []byte(result), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "worker: write termination message:", err)
		os.Exit(2)
	}
	fmt.Println("worker: result written")
	code, _ := strconv.Atoi(os.Getenv("WORKER_EXIT_CODE"))
	os.Exit(code)
}
