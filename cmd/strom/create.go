package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"strings"

	"github.com/spf13/cobra"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/strom-project/strom/events/api"
	"github.com/strom-project/strom/events/objects"
)

// createCommand is kubectl's create with the generators Strom has.
func (c *cli) createCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "create SUBCOMMAND", Short: "Create an object from the command line"}
	cmd.AddCommand(c.createJobCommand())
	return cmd
}

// instantiateAnnotation marks a Job started by hand from a CronJob, as
// kubectl marks it.
const instantiateAnnotation = "cronjob.kubernetes.io/instantiate"

func (c *cli) createJobCommand() *cobra.Command {
	var from, image string
	cmd := &cobra.Command{
		Use:   "job NAME (--from=cronjob/NAME | --image=IMAGE [-- COMMAND [ARGS...]])",
		Short: "Create a Job, from a CronJob's template (run it now) or from an image",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name, command := args[0], args[1:]
			var j *batchv1.Job
			switch {
			case from != "" && image != "":
				return fmt.Errorf("either --image or --from must be specified, not both")
			case from != "":
				if len(command) > 0 {
					return fmt.Errorf("cannot specify --from and command")
				}
				cj, err := c.getCronJob(from)
				if err != nil {
					return err
				}
				j = jobFromCronJob(name, cj)
			case image != "":
				j = jobFromImage(name, image, command)
			default:
				return fmt.Errorf("either --image or --from must be specified")
			}
			j.Namespace = c.ns()
			data, err := json.Marshal(j)
			if err != nil {
				return err
			}
			resp, err := c.call(api.VerbCreate, &api.Request{Object: data, Namespace: c.ns()})
			if err != nil {
				return err
			}
			c.warn(resp.Warnings)
			fmt.Fprintf(c.out, "job.batch/%s created\n", name)
			return nil
		},
	}
	cmd.Flags().StringVar(&from, "from", "", "the CronJob to take the Job's template from: cronjob/NAME")
	cmd.Flags().StringVar(&image, "image", "", "the image of the Job's one container")
	return cmd
}

// getCronJob reads the CronJob that --from names.
func (c *cli) getCronJob(from string) (*batchv1.CronJob, error) {
	kindName, name, ok := strings.Cut(from, "/")
	if !ok || name == "" {
		return nil, fmt.Errorf("--from=%s: want cronjob/NAME", from)
	}
	k, err := objects.Lookup(kindName)
	if err != nil {
		return nil, err
	}
	if k.Kind != "CronJob" {
		return nil, fmt.Errorf("from must be an existing cronjob: %s", from)
	}
	resp, err := c.call(api.VerbGet, &api.Request{Resource: k.Resource, Namespace: c.ns(), Name: name})
	if err != nil {
		return nil, err
	}
	var cj batchv1.CronJob
	if err := json.Unmarshal(resp.Object, &cj); err != nil {
		return nil, fmt.Errorf("decoding cronjob %s: %w", name, err)
	}
	return &cj, nil
}

// jobFromCronJob is what kubectl creates from a CronJob: its job
// template, the manual-instantiation annotation, and the CronJob as its
// controller.
func jobFromCronJob(name string, cj *batchv1.CronJob) *batchv1.Job {
	annotations := map[string]string{instantiateAnnotation: "manual"}
	maps.Copy(annotations, cj.Spec.JobTemplate.Annotations)
	controller := true
	return &batchv1.Job{
		TypeMeta: metav1.TypeMeta{APIVersion: batchv1.SchemeGroupVersion.String(), Kind: "Job"},
		ObjectMeta: metav1.ObjectMeta{
			Name:        name,
			Annotations: annotations,
			Labels:      maps.Clone(cj.Spec.JobTemplate.Labels),
			OwnerReferences: []metav1.OwnerReference{{APIVersion: batchv1.SchemeGroupVersion.String(), Kind: "CronJob",
				Name: cj.Name, UID: cj.UID, Controller: &controller}},
		},
		Spec: *cj.Spec.JobTemplate.Spec.DeepCopy(),
	}
}

// jobFromImage is kubectl's Job of one container that never restarts.
func jobFromImage(name, image string, command []string) *batchv1.Job {
	return &batchv1.Job{
		TypeMeta:   metav1.TypeMeta{APIVersion: batchv1.SchemeGroupVersion.String(), Kind: "Job"},
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
			RestartPolicy: corev1.RestartPolicyNever,
			Containers:    []corev1.Container{{Name: name, Image: image, Command: command}},
		}}},
	}
}
