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
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/asyncjob/asyncjob/api/v1alpha1"
)

// listWebhookDeliveries handles GET /v1/jobs/{id}/webhook-deliveries: the
// delivery log the controller keeps in status.webhook, newest first.
func (s *Server) listWebhookDeliveries(c *gin.Context) error {
	aj, err := s.lookupJobWithWebhook(c)
	if err != nil {
		return err
	}
	return writeJSON(c, http.StatusOK, toDeliveryList(aj))
}

// redeliverWebhook handles POST
// /v1/jobs/{id}/webhook-deliveries/{deliveryId}/redeliver: it asks the
// controller to send that delivery again (same webhook-id) and answers 202
// with the delivery as it stands; the controller resets it to pending.
func (s *Server) redeliverWebhook(c *gin.Context) error {
	aj, err := s.lookupJobWithWebhook(c)
	if err != nil {
		return err
	}
	id := c.Param("deliveryId")
	d, ok := findDelivery(aj, id)
	if !ok {
		return newError(problemDeliveryNotFound, "job %s has no webhook delivery %q; GET %s lists them", aj.Name, id, webhookDeliveriesPath(aj.Name))
	}
	if err := s.store.requestRedelivery(c.Request.Context(), aj, id); err != nil {
		return err
	}
	c.Header("Location", webhookDeliveriesPath(aj.Name))
	item := toDelivery(d)
	item.Links.Redeliver = c.Request.URL.Path
	return writeJSON(c, http.StatusAccepted, item)
}

// lookupJobWithWebhook finds the caller's job, refusing one without a webhook.
func (s *Server) lookupJobWithWebhook(c *gin.Context) (*v1alpha1.AsyncJob, error) {
	aj, err := s.lookupJob(c)
	if err != nil {
		return nil, err
	}
	if aj.Spec.Webhook == nil {
		return nil, newError(problemNoWebhook, "job %s was submitted without a webhook, so it has no deliveries", aj.Name)
	}
	return aj, nil
}

func findDelivery(aj *v1alpha1.AsyncJob, id string) (v1alpha1.WebhookDelivery, bool) {
	if aj.Status.Webhook == nil {
		return v1alpha1.WebhookDelivery{}, false
	}
	for _, d := range aj.Status.Webhook.Deliveries {
		if d.ID == id {
			return d, true
		}
	}
	return v1alpha1.WebhookDelivery{}, false
}
