package deployment

import (
	"time"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/types"
)

// Annotations and labels the deployment controller maintains.
const (
	RevisionAnnotation        = "deployment.kubernetes.io/revision"
	RevisionHistoryAnnotation = "deployment.kubernetes.io/revision-history"
	DesiredReplicasAnnotation = "deployment.kubernetes.io/desired-replicas"
	MaxReplicasAnnotation     = "deployment.kubernetes.io/max-replicas"
	PodTemplateHashLabel      = appsv1.DefaultDeploymentUniqueLabelKey // "pod-template-hash"
	lastAppliedAnnotation     = "kubectl.kubernetes.io/last-applied-configuration"
	rollbackToAnnotation      = "deprecated.deployment.rollback.to"
)

// Condition reasons, as Kubernetes writes them.
const (
	ReasonNewRSCreated       = "NewReplicaSetCreated"
	ReasonFoundNewRS         = "FoundNewReplicaSet"
	ReasonRSUpdated          = "ReplicaSetUpdated"
	ReasonNewRSAvailable     = "NewReplicaSetAvailable"
	ReasonTimedOut           = "ProgressDeadlineExceeded"
	ReasonPaused             = "DeploymentPaused"
	ReasonResumed            = "DeploymentResumed"
	ReasonMinimumAvailable   = "MinimumReplicasAvailable"
	ReasonMinimumUnavailable = "MinimumReplicasUnavailable"
)

// Input is everything Plan looks at.
type Input struct {
	Deployment *appsv1.Deployment
	// ReplicaSets owned by the Deployment, with status as the ReplicaSet
	// controller last wrote it.
	ReplicaSets []*appsv1.ReplicaSet
	// PodsRunning counts, per ReplicaSet uid, the pods that still exist and
	// have not finished (terminating ones included). Only Recreate uses it,
	// to wait until old pods are gone; nil means "use status.replicas".
	PodsRunning map[types.UID]int32
	Now         time.Time
}

// Actions is one step of a rollout.
type Actions struct {
	// Create is a new ReplicaSet to create, if any. If the write fails
	// because the name is taken by a ReplicaSet the Deployment does not
	// own, increment status.collisionCount and plan again.
	Create *appsv1.ReplicaSet
	// Update holds owned ReplicaSets to write back (replicas,
	// minReadySeconds or annotations changed).
	Update []*appsv1.ReplicaSet
	// Delete holds old ReplicaSets beyond revisionHistoryLimit.
	Delete []*appsv1.ReplicaSet
	// Annotations is the Deployment's new annotation map when it changed
	// (the revision annotation), nil otherwise.
	Annotations map[string]string
	// Status is the Deployment's new status.
	Status appsv1.DeploymentStatus
	// RequeueAfter > 0 asks to plan again then, to check the progress
	// deadline.
	RequeueAfter time.Duration
}
