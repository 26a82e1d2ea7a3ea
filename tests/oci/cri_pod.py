#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# cri_pod.py: a minimal CRI client that does what kubelet does for a one-container pod that
# runs to completion, over containerd's CRI gRPC API (runtime.v1 on containerd's socket):
# Version, ImageStatus (image and sandbox image present), RunPodSandbox with a runtime
# handler, PodSandboxStatus (ready), CreateContainer, StartContainer, ContainerStatus until
# exited, the container's log file, then RemoveContainer, StopPodSandbox, RemovePodSandbox and
# a PodSandboxStatus that must say NotFound. It prints one JSON object (what happened, the
# exit code, the log's messages, the OCI spec containerd generated, the time from
# RunPodSandbox to the container's exit and to the end of RemovePodSandbox) and exits 0 if
# every call succeeded. The checks on
# what the run produced (receipt, witness, determinism) are the caller's (test_cri.sh).
# Not here: image pulls, exec/attach/port-forward, probes, restarts, CNI networking.
# Usage: cri_pod.py --socket S --handler H --image I --sandbox-image P --log-dir D --name N
#                   [--annotation K=V]... [--pod-annotation K=V]... [--stop-after SECONDS]
#                   [--spec-out FILE] -- COMMAND...
# With --stop-after the container is stopped with StopContainer (kubectl delete pod's path)
# that many seconds after StartContainer instead of being left to exit by itself.
# Needs Debian's python3-grpcio and python3-grpc-tools (the proto is compiled at run time).
import argparse
import json
import os
import shutil
import sys
import tempfile
import time

import grpc
from grpc_tools import protoc


def load_api(workdir):
    """Compiles cri_api.proto (beside this file) into workdir and imports it."""
    here = os.path.dirname(os.path.abspath(__file__))
    include = os.path.join(os.path.dirname(protoc.__file__), "_proto")
    rc = protoc.main(["protoc", "-I" + here, "-I" + include, "--python_out=" + workdir,
                      "--grpc_python_out=" + workdir, os.path.join(here, "cri_api.proto")])
    if rc != 0:
        raise SystemExit("cri_pod: compiling cri_api.proto failed")
    sys.path.insert(0, workdir)
    import cri_api_pb2  # noqa: E402 (generated above)
    import cri_api_pb2_grpc  # noqa: E402
    sys.path.remove(workdir)
    shutil.rmtree(workdir)  # imported: the generated files are no longer needed
    return cri_api_pb2, cri_api_pb2_grpc


def key_values(items):
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise SystemExit("cri_pod: annotation must be KEY=VALUE: " + item)
        out[key] = value
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--socket", required=True)
    ap.add_argument("--handler", required=True)
    ap.add_argument("--image", required=True)
    ap.add_argument("--sandbox-image", required=True)
    ap.add_argument("--log-dir", required=True)
    ap.add_argument("--name", required=True)
    ap.add_argument("--annotation", action="append", default=[])
    ap.add_argument("--pod-annotation", action="append", default=[])
    ap.add_argument("--timeout", type=float, default=120.0)
    ap.add_argument("--spec-out", default=None,
                    help="write the container's OCI spec (as containerd generated it) here")
    ap.add_argument("--stop-after", type=float, default=None,
                    help="StopContainer (10 s grace) this many seconds after StartContainer")
    ap.add_argument("command", nargs="+")
    args = ap.parse_args()

    work = tempfile.mkdtemp(prefix="cri_pod.")
    pb, pbg = load_api(work)
    chan = grpc.insecure_channel("unix://" + args.socket)
    rt = pbg.RuntimeServiceStub(chan)
    img = pbg.ImageServiceStub(chan)
    result = {"handler": args.handler, "name": args.name, "ok": False}
    step = "Version"
    try:
        v = rt.Version(pb.VersionRequest(version="v1"), timeout=30)
        result["runtime"] = "%s %s (CRI %s)" % (v.runtime_name, v.runtime_version,
                                                v.runtime_api_version)
        step = "ImageStatus"
        for name in (args.image, args.sandbox_image):
            st = img.ImageStatus(pb.ImageStatusRequest(image=pb.ImageSpec(image=name)),
                                 timeout=30)
            if not st.image.id:
                raise RuntimeError("image not present in the k8s.io namespace: " + name)

        # Host network and host IPC, the container's own pid namespace: the container joins
        # no namespace of the sandbox by path (Docklock's strict mode refuses that), and no
        # CNI plugin is needed.
        ns = pb.NamespaceOption(network=pb.NODE, pid=pb.CONTAINER, ipc=pb.NODE)
        pod = pb.PodSandboxConfig(
            metadata=pb.PodSandboxMetadata(name=args.name, uid="uid-" + args.name,
                                           namespace="default", attempt=0),
            hostname="", log_directory=args.log_dir,
            labels={"app": args.name}, annotations=key_values(args.pod_annotation),
            linux=pb.LinuxPodSandboxConfig(
                security_context=pb.LinuxSandboxSecurityContext(namespace_options=ns)))
        t0 = time.monotonic()
        step = "RunPodSandbox"
        pod_id = rt.RunPodSandbox(pb.RunPodSandboxRequest(config=pod,
                                                          runtime_handler=args.handler),
                                  timeout=args.timeout).pod_sandbox_id
        result["pod_sandbox_id"] = pod_id
        step = "PodSandboxStatus"
        ps = rt.PodSandboxStatus(pb.PodSandboxStatusRequest(pod_sandbox_id=pod_id,
                                                            verbose=True), timeout=30)
        result["sandbox_state"] = pb.PodSandboxState.Name(ps.status.state)
        result["sandbox_runtime_handler"] = ps.status.runtime_handler
        if ps.status.state != pb.SANDBOX_READY:
            raise RuntimeError("sandbox not ready")
        step = "CreateContainer"
        cfg = pb.ContainerConfig(
            metadata=pb.ContainerMetadata(name="job", attempt=0),
            image=pb.ImageSpec(image=args.image), command=args.command,
            annotations=key_values(args.annotation), log_path="job/0.log",
            linux=pb.LinuxContainerConfig(
                security_context=pb.LinuxContainerSecurityContext(namespace_options=ns)))
        cid = rt.CreateContainer(pb.CreateContainerRequest(pod_sandbox_id=pod_id, config=cfg,
                                                           sandbox_config=pod),
                                 timeout=args.timeout).container_id
        result["container_id"] = cid
        # The OCI spec containerd generated (kept even when StartContainer fails).
        cs = rt.ContainerStatus(pb.ContainerStatusRequest(container_id=cid, verbose=True),
                                timeout=30)
        spec = json.loads(cs.info.get("info", "{}")).get("runtimeSpec", {})
        result["spec_annotations"] = spec.get("annotations", {})
        result["spec_namespaces"] = spec.get("linux", {}).get("namespaces", [])
        if args.spec_out:
            with open(args.spec_out, "w", encoding="utf-8") as f:
                json.dump(spec, f, indent=1, sort_keys=True)
        step = "StartContainer"
        rt.StartContainer(pb.StartContainerRequest(container_id=cid), timeout=args.timeout)
        if args.stop_after is not None:
            time.sleep(args.stop_after)
            step = "StopContainer"
            cs = rt.ContainerStatus(pb.ContainerStatusRequest(container_id=cid), timeout=30)
            result["state_before_stop"] = pb.ContainerState.Name(cs.status.state)
            rt.StopContainer(pb.StopContainerRequest(container_id=cid, timeout=10),
                             timeout=args.timeout)
        step = "ContainerStatus"
        deadline = time.monotonic() + args.timeout
        while True:
            cs = rt.ContainerStatus(pb.ContainerStatusRequest(container_id=cid), timeout=30)
            if cs.status.state == pb.CONTAINER_EXITED:
                break
            if time.monotonic() > deadline:
                raise RuntimeError("container did not exit in time")
            time.sleep(0.002)
        result["seconds_pod_to_exit"] = round(time.monotonic() - t0, 4)
        cs = rt.ContainerStatus(pb.ContainerStatusRequest(container_id=cid, verbose=True),
                                timeout=30)
        result["state"] = pb.ContainerState.Name(cs.status.state)
        result["exit_code"] = cs.status.exit_code
        result["reason"] = cs.status.reason
        result["log_path"] = cs.status.log_path
        # CRI log lines: "TIMESTAMP STREAM TAG MESSAGE"; the timestamp is the node's clock.
        messages = []
        with open(cs.status.log_path, encoding="utf-8", errors="replace") as f:
            for line in f:
                parts = line.rstrip("\n").split(" ", 3)
                if len(parts) == 4:
                    messages.append("%s %s" % (parts[1], parts[3]))
        result["log"] = messages
        step = "RemoveContainer"
        rt.RemoveContainer(pb.RemoveContainerRequest(container_id=cid), timeout=args.timeout)
        step = "StopPodSandbox"
        rt.StopPodSandbox(pb.StopPodSandboxRequest(pod_sandbox_id=pod_id), timeout=args.timeout)
        step = "RemovePodSandbox"
        rt.RemovePodSandbox(pb.RemovePodSandboxRequest(pod_sandbox_id=pod_id),
                            timeout=args.timeout)
        step = "PodSandboxStatus after remove"
        try:
            rt.PodSandboxStatus(pb.PodSandboxStatusRequest(pod_sandbox_id=pod_id), timeout=30)
            raise RuntimeError("sandbox still known after RemovePodSandbox")
        except grpc.RpcError as e:
            if e.code() != grpc.StatusCode.NOT_FOUND:
                raise
        result["seconds_total"] = round(time.monotonic() - t0, 4)
        result["ok"] = True
    except grpc.RpcError as e:
        result["error"] = "%s: %s %s" % (step, e.code().name, e.details())
    except (RuntimeError, OSError, ValueError) as e:
        result["error"] = "%s: %s" % (step, e)
    if not result["ok"] and "pod_sandbox_id" in result:
        # Best effort, as kubelet would: leave no sandbox (and its shim) behind.
        try:
            if "container_id" in result:
                rt.RemoveContainer(pb.RemoveContainerRequest(container_id=result["container_id"]),
                                   timeout=args.timeout)
            rt.StopPodSandbox(pb.StopPodSandboxRequest(pod_sandbox_id=result["pod_sandbox_id"]),
                              timeout=args.timeout)
            rt.RemovePodSandbox(pb.RemovePodSandboxRequest(
                pod_sandbox_id=result["pod_sandbox_id"]), timeout=args.timeout)
        except grpc.RpcError as e:
            result["cleanup_error"] = "%s %s" % (e.code().name, e.details())
    print(json.dumps(result, indent=1, sort_keys=True))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
