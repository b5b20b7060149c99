// Package volumes prepares a pod's volumes on the node and turns its
// containers' volumeMounts into runtime bind mounts.
//
// Every pod's volumes live under <root>/pods/<uid>/volumes/<volume name>:
//   - emptyDir: a directory; medium Memory mounts a tmpfs there (sizeLimit
//     honoured), unmounted by Teardown.
//   - hostPath: the host path itself, after the type check (Directory,
//     DirectoryOrCreate, File, FileOrCreate, Socket, CharDevice, BlockDevice).
//   - configMap, secret, downwardAPI: files written by AtomicWriter the way
//     kubelet does: the payload goes to a fresh timestamped directory, the
//     ..data symlink is swapped to it with a rename, and the visible names are
//     symlinks through ..data, so a reader sees either the old or the new set
//     of files, never half of one. Setup rewrites them on every sync, so
//     changed ConfigMaps and Secrets show up in running containers.
//
// A missing ConfigMap or Secret (not optional) is a *ConfigError whose
// message is what kubelet shows (`configmap "x" not found`); the caller
// reports it as CreateContainerConfigError.
package volumes
