package mrbehavior

import (
	"context"
	"strings"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"
	"github.com/crossplane/crossplane-runtime/v2/pkg/meta"
	"github.com/crossplane/crossplane-runtime/v2/pkg/resource"
)

// AnnotationCreateUnconfirmed marks a resource whose create request got no
// definite answer from Authentik, so the external resource may exist
// without its id having been recorded.
const AnnotationCreateUnconfirmed = "authentik.m.crossplane.io/create-unconfirmed"

const (
	errAdoptMismatch  = "exists in Authentik but differs from this resource, so it was not adopted after an unconfirmed create; to adopt it anyway set this as the crossplane.io/external-name annotation"
	errAdoptAmbiguous = "several resources in Authentik match this resource, so none was adopted after an unconfirmed create; to adopt one set its id as the crossplane.io/external-name annotation"
	errRecordAdoption = "cannot record the outcome of an unconfirmed create"
	errExists         = "already exists in Authentik and this resource did not create it, so nothing was changed; to manage it set spec.adoptExisting: true, or its id as the crossplane.io/external-name annotation"
	errAdoptMany      = "several objects in Authentik match this resource, so spec.adoptExisting adopted none; set the id of the one to manage as the crossplane.io/external-name annotation"
	errNeverAdopted   = "exists in Authentik but is never taken over by this resource, even with spec.adoptExisting, so nothing was changed"
)

// An adoptable resource carries the user's consent to manage an object that
// exists in Authentik already (spec.adoptExisting).
type adoptable interface {
	AdoptsExisting() bool
}

// MarkCreateUnconfirmed records that a create request got no definite
// answer; Create calls it when Authentik may have acted on the request.
func MarkCreateUnconfirmed(o client.Object) {
	meta.AddAnnotations(o, map[string]string{AnnotationCreateUnconfirmed: time.Now().UTC().Format(time.RFC3339)})
}

// A Candidate is an external resource that an unconfirmed create may have made.
type Candidate struct {
	// ExternalName the resource gets if it adopts the candidate.
	ExternalName string
	// Description names the candidate in messages, for example
	// group "storage-admins".
	Description string
	// Diff between the spec and the candidate; empty when every field the
	// spec sets matches.
	Diff string
	// Unadoptable says why the candidate is of another shape than this
	// resource manages (an application that belongs to another provider,
	// say), so that consent does not reach it; empty when it may be
	// adopted.
	Unadoptable string
}

// A CandidateFinder lists the external resources that an unconfirmed create
// of the managed resource may have made, or that its create would collide
// with: those with the key Authentik keeps unique (a name, a slug) or,
// where there is none, those the create would duplicate.
type CandidateFinder func(ctx context.Context, mg resource.Managed) ([]Candidate, error)

// An Adopter settles a create whose outcome is unknown: the process stopped
// between Authentik's answer and recording the id Authentik assigned, or
// the answer was lost. Exactly one candidate whose every field the spec
// sets matches is the one this resource made, and its id becomes the
// external name. With no candidate the create is marked failed and runs
// again. A candidate that differs, or several that match, are never
// adopted: they may be someone else's, and the resource says so.
//
// A resource that never sent a create manages only what the user named;
// see AdoptOnCreate.
type Adopter struct {
	Kube client.Client
	Find CandidateFinder
}

// Initialize runs before the managed reconciler's check for an incomplete
// create, which would otherwise stop the resource for good.
func (a *Adopter) Initialize(ctx context.Context, mg resource.Managed) error {
	_, unconfirmed := mg.GetAnnotations()[AnnotationCreateUnconfirmed]
	if meta.GetExternalName(mg) != "" || (!meta.ExternalCreateIncomplete(mg) && !unconfirmed) {
		return nil
	}
	candidates, err := a.Find(ctx, mg)
	if err != nil {
		return err
	}
	var matching, differing []Candidate
	for _, c := range candidates {
		if c.Diff == "" {
			matching = append(matching, c)
		} else {
			differing = append(differing, c)
		}
	}
	switch {
	case len(matching) > 1:
		ids := make([]string, 0, len(matching))
		for _, c := range matching {
			ids = append(ids, c.ExternalName)
		}
		return errors.Errorf("%s: %s", errAdoptAmbiguous, strings.Join(ids, ", "))
	case len(matching) == 1:
		meta.SetExternalName(mg, matching[0].ExternalName)
		meta.SetExternalCreateSucceeded(mg, time.Now())
	case len(differing) > 0:
		return errors.Errorf("%s %s: %s", differing[0].ExternalName, errAdoptMismatch, differing[0].Diff)
	case meta.ExternalCreateIncomplete(mg):
		meta.SetExternalCreateFailed(mg, time.Now())
	}
	meta.RemoveAnnotations(mg, AnnotationCreateUnconfirmed)
	return errors.Wrap(a.Kube.Update(ctx, mg), errRecordAdoption)
}

// AdoptOnCreate runs first in a Create, once references are resolved, and
// settles what exists in Authentik with the key the create would use. With
// nothing there it returns false and the create goes on. With
// spec.adoptExisting it sets the one candidate's id as the external name
// and returns true: the resource manages it instead of making another,
// unless the candidate is of a shape the resource never manages, which it
// refuses naming why. Without consent it returns an
// error that says what exists and how to consent, and nothing in Authentik
// changes: no object is taken over silently, and none is duplicated. (An
// external name set by the user is consent too; a resource with one is
// observed, never created.)
func AdoptOnCreate(ctx context.Context, mg resource.Managed, find CandidateFinder) (bool, error) {
	candidates, err := find(ctx, mg)
	if err != nil || len(candidates) == 0 {
		return false, err
	}
	if ad, ok := mg.(adoptable); !ok || !ad.AdoptsExisting() {
		return false, errors.Errorf("%s %s", describe(candidates[0]), errExists)
	}
	if len(candidates) > 1 {
		ids := make([]string, 0, len(candidates))
		for _, c := range candidates {
			ids = append(ids, c.ExternalName)
		}
		return false, errors.Errorf("%s: %s", errAdoptMany, strings.Join(ids, ", "))
	}
	if why := candidates[0].Unadoptable; why != "" {
		return false, errors.Errorf("%s %s: %s", describe(candidates[0]), errNeverAdopted, why)
	}
	meta.SetExternalName(mg, candidates[0].ExternalName)
	return true, nil
}

func describe(c Candidate) string {
	if c.Description == "" {
		return c.ExternalName
	}
	return c.Description + " (" + c.ExternalName + ")"
}
