import Foundation

/// Builders for every command the product prints or runs, kept in one place so each program
/// is spelled the same way everywhere. Values are words of an argv, never interpolated into a
/// shell string; bodies are `Patches` JSON values.
public enum Commands {
    /// Every write names its field manager so ownership is visible in `managedFields`.
    public static let fieldManager: Command.Word = "--field-manager=kubectl-xpid"

    // MARK: kubectl reads

    public static func kubectl(_ words: [Command.Word], effect: Command.Effect = .read, input: JSONValue? = nil) -> Command {
        Command(["kubectl"] + words, input: input, effect: effect)
    }

    public static func describePackage(_ subject: Subject) -> Command {
        kubectl(["describe", .literal(packageResource(subject)), .literal(subject.name)])
    }

    public static func describePod(namespace: String, name: String) -> Command {
        kubectl(["-n", .literal(namespace), "describe", "pod", .literal(name)])
    }

    public static func describeNode(_ name: String) -> Command { kubectl(["describe", "node", .literal(name)]) }

    public static func getYAML(_ resource: String, _ name: String, namespace: String? = nil) -> Command {
        kubectl((namespace.map { ["-n", .literal($0)] } ?? []) + ["get", .literal(resource), .literal(name), "-o", "yaml"])
    }

    public static func list(_ resource: String, namespace: String? = nil, selector: String? = nil, extra: [Command.Word] = []) -> Command {
        var words: [Command.Word] = namespace.map { ["-n", .literal($0)] } ?? []
        words += ["get", .literal(resource)]
        if let selector { words += ["-l", .literal(selector)] }
        return kubectl(words + extra)
    }

    public static func packageRevisions(_ subject: Subject) -> Command {
        list("\(subject.kind == .function ? "functionrevisions" : "providerrevisions").pkg.crossplane.io", selector: "pkg.crossplane.io/package=\(subject.name)")
    }

    // MARK: kubectl writes

    public static func restart(_ subject: Subject) -> Command {
        let name = subject.deployment?.metadata.name ?? subject.revision ?? subject.name
        return restart(namespace: subject.namespace, deployment: name)
    }

    public static func restart(namespace: String, deployment: String) -> Command {
        kubectl(["rollout", "restart", .literal("deployment/\(deployment)"), "-n", .literal(namespace), fieldManager], effect: .change)
    }

    public static func rolloutStatus(namespace: String, deployment: String, timeout: String) -> Command {
        kubectl(["rollout", "status", .literal("deployment/\(deployment)"), "-n", .literal(namespace), .literal("--timeout=\(timeout)")])
    }

    /// `kubectl annotate` of one key (`value` nil removes it; a variable value stays one word).
    public static func annotate(_ resource: String, _ name: String, namespace: String?, key: String, value: Command.Word?, overwrite: Bool = false) -> Command {
        var words: [Command.Word] = ["annotate", .literal(resource), .literal(name)]
        if let namespace { words += ["-n", .literal(namespace)] }
        words.append(value.map { $0.prefixed("\(key)=") } ?? .literal("\(key)-"))
        if overwrite { words.append("--overwrite") }
        return kubectl(words + [fieldManager], effect: .change)
    }

    public enum PatchType: String, Sendable { case merge, json, strategic }

    public static func patch(_ resource: String, _ name: String, namespace: String? = nil, type: PatchType = .merge, _ body: JSONValue) -> Command {
        var words: [Command.Word] = ["patch", .literal(resource), .literal(name)]
        if let namespace { words += ["-n", .literal(namespace)] }
        words += ["--type", .literal(type.rawValue), "-p", .literal(body.compactText()), fieldManager]
        return kubectl(words, effect: .change)
    }

    /// Server-side apply of a manifest given on stdin.
    public static func apply(_ manifest: JSONValue) -> Command {
        kubectl(["apply", "--server-side", fieldManager, "-f", "-"], effect: .change, input: manifest)
    }

    public static func delete(_ resource: String, _ name: String) -> Command {
        kubectl(["delete", .literal(resource), .literal(name)], effect: .change)
    }

    // MARK: Crossplane

    /// `providers.pkg.crossplane.io` or `functions.pkg.crossplane.io`, as kubectl names the package's kind.
    public static func packageResource(_ subject: Subject) -> String {
        "\(subject.kind == .function ? "functions" : "providers").pkg.crossplane.io"
    }

    public static let runtimeConfigResource = "deploymentruntimeconfigs.pkg.crossplane.io"

    /// The runtime config made for one package, so the shared `default` one is never edited.
    public static func dedicatedRuntimeConfigName(_ subject: Subject) -> String { "\(subject.name)-runtime" }

    /// A dedicated DeploymentRuntimeConfig with a stable ServiceAccount name, then the package pointed at it.
    public static func stableServiceAccount(_ subject: Subject, serviceAccount: String) -> [Command] {
        let drc = dedicatedRuntimeConfigName(subject)
        return [
            apply(Patches.runtimeConfigManifest(name: drc, serviceAccountName: serviceAccount)),
            patch(packageResource(subject), subject.name, Patches.runtimeConfigRef(drc)),
        ]
    }

    public static func setSource(_ pc: ProviderConfig, source: String) -> Command {
        patch("\(pc.api.plural).\(pc.api.group)", pc.metadata.name, namespace: pc.metadata.namespace, Patches.credentialsSource(source))
    }

    /// How to put `eks.amazonaws.com/role-arn` on a subject's ServiceAccount so that it stays:
    /// Helm values for a Helm-managed Crossplane core (seed 000), the DeploymentRuntimeConfig's
    /// `serviceAccountTemplate` for packages (Crossplane re-applies the SA from it), else the SA itself.
    /// `role` must be a validated ARN (or a variable).
    public static func setRoleAnnotation(_ subject: Subject, role: Command.Word, overwrite: Bool = false) -> [Command] {
        setServiceAccountAnnotation(subject, key: IRSAFacts.roleAnnotation, value: role, overwrite: overwrite)
    }

    /// The Helm value that renders one annotation on the Crossplane ServiceAccount (dots in the key escaped).
    public static func helmAnnotationKey(_ key: String) -> String {
        "serviceAccount.customAnnotations." + key.replacingOccurrences(of: ".", with: "\\.")
    }

    /// How to put one annotation on a subject's ServiceAccount so that it stays (see `setRoleAnnotation`).
    public static func setServiceAccountAnnotation(_ subject: Subject, key: String, value role: Command.Word, overwrite: Bool = false) -> [Command] {
        let sa = subject.serviceAccountName ?? subject.name
        func annotateSA() -> Command { annotate("serviceaccount", sa, namespace: subject.namespace, key: key, value: role, overwrite: overwrite) }
        switch subject.kind {
        case .crossplaneCore:
            if let helm = helmRelease(subject) {
                return [helmSet(helm, key: helmAnnotationKey(key), value: role), restart(subject)]
            }
            return [annotateSA(), restart(subject)]
        case .provider, .function:
            if let drc = subject.runtimeConfig, drc.podServiceAccountName == sa {
                // A pre-created ServiceAccount that Crossplane does not manage: annotate it directly.
                return [annotateSA(), restart(subject)]
            }
            guard case .literal(let value) = role else {
                // The manifest and patch bodies need the value itself; annotate the ServiceAccount meanwhile.
                return [annotateSA(), restart(subject)]
            }
            if let drc = subject.runtimeConfig, drc.metadata.name != "default" {
                return [patch(runtimeConfigResource, drc.metadata.name, Patches.serviceAccountTemplateAnnotation(key, value)), restart(subject)]
            }
            // Never edit the shared `default` runtime config: give the package its own.
            let drc = dedicatedRuntimeConfigName(subject)
            return [
                apply(Patches.runtimeConfigManifest(name: drc, annotations: [key: value])),
                patch(packageResource(subject), subject.name, Patches.runtimeConfigRef(drc)),
            ]
        case .fluxController:
            return [annotateSA(), restart(subject)]
        case .fluxObject:
            // The controller mints the object's token at each reconcile: nothing to restart.
            return [annotateSA()]
        }
    }

    /// `helm upgrade RELEASE crossplane-stable/crossplane --namespace NS --reuse-values --set-string KEY=VALUE`.
    public static func helmSet(_ release: (release: String, namespace: String), key: String, value: Command.Word) -> Command {
        helmSet(release, [(key, value)])
    }

    /// One `helm upgrade` setting several values (each `--set-string KEY=VALUE`).
    public static func helmSet(_ release: (release: String, namespace: String), _ values: [(key: String, value: Command.Word)]) -> Command {
        Command(
            ["helm", "upgrade", .literal(release.release), "crossplane-stable/crossplane", "--namespace", .literal(release.namespace), "--reuse-values"]
                + values.flatMap { ["--set-string", $0.value.prefixed("\($0.key)=")] as [Command.Word] }, effect: .change)
    }

    /// The Helm value that puts one label on the Crossplane pods (`customLabels`, dots in the key escaped).
    public static func helmLabelKey(_ key: String) -> String {
        "customLabels." + key.replacingOccurrences(of: ".", with: "\\.")
    }

    /// The Helm release managing the Crossplane core, from its ServiceAccount or Deployment.
    public static func helmRelease(_ subject: Subject) -> (release: String, namespace: String)? {
        for meta in [subject.serviceAccount?.metadata, subject.deployment?.metadata].compactMap({ $0 }) {
            if case .helm(let release, let namespace) = meta.managedBy {
                return (release ?? "crossplane", namespace ?? subject.namespace)
            }
        }
        return nil
    }

    // MARK: kubectl xpid itself

    public static func xpid(_ words: [Command.Word]) -> Command { Command(["kubectl", "xpid"] + words) }

    // MARK: RBAC

    /// Role + binding that grant get/list on one resource to `user`, and the `auth can-i` that confirms it.
    public static func grantRead(resource: String, group: String, namespace: String?, verb: String, user: String?) -> [Command] {
        let qualified = group.isEmpty ? resource : "\(resource).\(group)"
        let role = "xpid-read-\(resource)"
        let userWord: Command.Word = user.map(Command.Word.literal) ?? .variable("KUBE_USER", meaning: "the Kubernetes user kubectl xpid runs as (kubectl auth whoami)")
        let can: Command
        let create: Command
        let bind: Command
        if let ns = namespace {
            create = kubectl(["create", "role", .literal(role), "-n", .literal(ns), "--verb=get,list", .literal("--resource=\(qualified)")], effect: .change)
            bind = kubectl(["create", "rolebinding", .literal(role), "-n", .literal(ns), .literal("--role=\(role)"), userWord.prefixed("--user=")], effect: .change)
            can = kubectl(["auth", "can-i", .literal(verb), .literal(qualified), "-n", .literal(ns)])
        } else {
            create = kubectl(["create", "clusterrole", .literal(role), "--verb=get,list", .literal("--resource=\(qualified)")], effect: .change)
            bind = kubectl(["create", "clusterrolebinding", .literal(role), .literal("--clusterrole=\(role)"), userWord.prefixed("--user=")], effect: .change)
            can = kubectl(["auth", "can-i", .literal(verb), .literal(qualified), "--all-namespaces"])
        }
        return [create, bind, can]
    }
}
