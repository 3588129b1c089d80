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
	"encoding/json"
	"net/http"
	"sort"

	"github.com/gin-gonic/gin"

	"github.com/asyncjob/asyncjob/api/v1alpha1"
)

// jobType is the REST representation of a submittable AsyncJobType.
type jobType struct {
	Name                string          `json:"name"`
	Description         string          `json:"description"`
	ParametersSchema    json.RawMessage `json:"parametersSchema"`
	PollIntervalSeconds int             `json:"pollIntervalSeconds"`
	// MaxPriority is the highest priority a submission may ask for.
	MaxPriority int32 `json:"maxPriority"`
}

// jobTypeList is the answer of GET /v1/types.
type jobTypeList struct {
	Items []jobType `json:"items"`
}

func toJobType(t *v1alpha1.AsyncJobType) jobType {
	jt := jobType{
		Name:                t.Name,
		Description:         t.Spec.Description,
		ParametersSchema:    json.RawMessage(`{"type":"object"}`),
		PollIntervalSeconds: pollOf(t),
		MaxPriority:         t.Spec.MaxPriority,
	}
	if t.Spec.ParametersSchema != nil && len(t.Spec.ParametersSchema.Raw) > 0 {
		jt.ParametersSchema = json.RawMessage(t.Spec.ParametersSchema.Raw)
	}
	return jt
}

// listTypes handles GET /v1/types: the Ready types, by name. Types are
// cluster-wide: every tenant may submit every Ready type.
func (s *Server) listTypes(c *gin.Context) error {
	types, err := s.store.listTypes(c.Request.Context())
	if err != nil {
		return err
	}
	sort.Slice(types, func(i, j int) bool { return types[i].Name < types[j].Name })
	out := jobTypeList{Items: make([]jobType, 0, len(types))}
	for i := range types {
		out.Items = append(out.Items, toJobType(&types[i]))
	}
	return writeJSON(c, http.StatusOK, out)
}

// getType handles GET /v1/types/{name}.
func (s *Server) getType(c *gin.Context) error {
	jt, ok, err := s.store.getType(c.Request.Context(), c.Param("name"))
	if err != nil {
		return err
	}
	if !ok {
		return newError(problemTypeNotFound, "no job type %q can be submitted; GET /v1/types lists those that can", c.Param("name"))
	}
	return writeJSON(c, http.StatusOK, toJobType(jt.obj))
}
