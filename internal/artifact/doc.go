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

// Package artifact is the job-scoped file store behind the REST API's uploads
// and downloads: each job's inputs and outputs live under one prefix of one
// bucket, opened through gocloud.dev/blob (a directory on a volume, S3 or an
// S3-compatible store, GCS, Azure Blob Storage: the URL scheme says which).
//
// Keys are <namespace>/<job>/inputs/<name> and <namespace>/<job>/outputs/<name>,
// so one listing finds a job's files and one prefix removal deletes them.
package artifact
