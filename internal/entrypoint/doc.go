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

// Package entrypoint is asyncjob entrypoint: it runs a job's command as an
// asyncjob worker. It downloads the job's input files before the command
// and uploads its output files after it succeeds, through the API's worker
// routes. It forwards signals to the command's process group, copies
// its output through unchanged while reading progress from it (::progress
// lines and ffmpeg's -progress stream), sends that progress to the API
// server's callback (coalesced, retried, never fatal), and delivers the
// command's result (termination message or result callback) or its failure
// reason. docs/worker-contract.md, "Files" and "The entrypoint", is its
// contract.
package entrypoint
