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

package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/gin-gonic/gin"
)

// MaxResultBytes bounds a result PUT to the result callback: well inside
// etcd's object limit (1.5 MiB by default) with the rest of the AsyncJob, and
// the entrypoint's own limit. It applies whatever the server's general body
// limit (Config.MaxBodyBytes) is.
const MaxResultBytes = 1 << 20

// putResult handles PUT /v1/jobs/{id}/result (worker token only): the body,
// any JSON value but null, becomes the job's status.result, replacing one
// PUT before; the controller makes it the job's result when it completes,
// unless the termination message has one. 204 when stored.
func (s *Server) putResult(c *gin.Context) error {
	aj, ok := workerJobFrom(c.Request.Context())
	if !ok {
		return errors.New("no worker job on a worker route")
	}
	if !isJSON(c.GetHeader("Content-Type")) {
		return newError(problemUnsupportedMediaType, "send the result as Content-Type: application/json")
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, MaxResultBytes))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return newError(problemPayloadTooLarge, "a result may have at most %d bytes (1 MiB); store larger outputs as an artifact and put its location in the result", MaxResultBytes)
	}
	if err != nil {
		return newError(problemMalformedJSON, "the body could not be read")
	}
	var value json.RawMessage
	if err := decodeOneJSON(body, &value); err != nil {
		return err
	}
	if bytes.Equal(value, []byte("null")) {
		return newError(problemMalformedJSON, "the result must be a JSON value other than null")
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, value); err != nil {
		return newError(problemMalformedJSON, "the body is not valid JSON")
	}
	if err := s.store.writeResult(c.Request.Context(), aj, compact.Bytes()); err != nil {
		return err
	}
	c.Status(http.StatusNoContent)
	return nil
}
