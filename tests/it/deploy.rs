//! The deployment files and the README agree with the code: every
//! `GEARSHIFT_*` variable they set exists, every `--target` names a target,
//! ports line up, secrets are referenced rather than inlined, and the README's
//! configuration table lists exactly the variables `gearshift serve` reads.

use std::collections::BTreeSet;

use clap::{CommandFactory, ValueEnum};
use gearshift::{Cli, Target};
use yaml_rust2::{Yaml, YamlLoader};

fn known_env() -> BTreeSet<String> {
    let cli = Cli::command();
    let serve = cli.find_subcommand("serve").expect("serve subcommand");
    serve
        .get_arguments()
        .filter_map(|a| a.get_env())
        .map(|e| e.to_string_lossy().into_owned())
        .collect()
}

fn targets() -> BTreeSet<String> {
    Target::value_variants()
        .iter()
        .filter_map(|t| t.to_possible_value())
        .map(|v| v.get_name().to_string())
        .collect()
}

fn load(path: &str) -> Vec<Yaml> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    YamlLoader::load_from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn port_of(addr: &str) -> i64 {
    addr.rsplit(':')
        .next()
        .unwrap()
        .trim_end_matches('/')
        .parse()
        .unwrap()
}

/// The target named after `--target` in an argument list.
fn target_arg(args: &Yaml) -> String {
    let args: Vec<&str> = args
        .as_vec()
        .expect("args list")
        .iter()
        .filter_map(Yaml::as_str)
        .collect();
    let i = args
        .iter()
        .position(|a| *a == "--target")
        .expect("--target given");
    args[i + 1].to_string()
}

#[test]
fn compose_file_uses_real_targets_variables_and_ports() {
    let docs = load("docker-compose.yml");
    let services = &docs[0]["services"];
    let known = known_env();
    for name in ["registry", "gateway"] {
        let svc = &services[name];
        assert_eq!(target_arg(&svc["command"]), name);
        assert!(targets().contains(name));
        for (k, _) in svc["environment"].as_hash().expect("environment map") {
            let k = k.as_str().unwrap();
            if k.starts_with("GEARSHIFT_") {
                assert!(known.contains(k), "docker-compose.yml sets unknown {k}");
            }
        }
    }
    let gw = &services["gateway"]["environment"];
    let registry_listen = services["registry"]["environment"]["GEARSHIFT_REGISTRY_LISTEN"]
        .as_str()
        .unwrap();
    assert_eq!(
        port_of(gw["GEARSHIFT_REGISTRY_ADDR"].as_str().unwrap()),
        port_of(registry_listen)
    );
    let published = services["gateway"]["ports"][0].as_str().unwrap();
    assert_eq!(
        port_of(published),
        port_of(gw["GEARSHIFT_GATEWAY_LISTEN"].as_str().unwrap())
    );
    for svc in ["postgres", "otel-collector", "jaeger"] {
        assert!(!services[svc].is_badvalue(), "compose has {svc}");
    }
}

#[test]
fn kubernetes_manifests_agree_with_the_code() {
    let known = known_env();
    let kustomization = &load("deploy/base/kustomization.yaml")[0];
    let mut deployments = 0;
    for resource in kustomization["resources"].as_vec().unwrap() {
        let path = format!("deploy/base/{}", resource.as_str().unwrap());
        let docs = load(&path);
        let services: Vec<&Yaml> = docs
            .iter()
            .filter(|d| d["kind"].as_str() == Some("Service"))
            .collect();
        for doc in docs
            .iter()
            .filter(|d| d["kind"].as_str() == Some("Deployment"))
        {
            deployments += 1;
            let container = &doc["spec"]["template"]["spec"]["containers"][0];
            let target = target_arg(&container["args"]);
            assert!(
                targets().contains(&target),
                "{path}: unknown target {target}"
            );
            let port = &container["ports"][0];
            let (port_name, port_number) = (
                port["name"].as_str().unwrap(),
                port["containerPort"].as_i64().unwrap(),
            );
            let mut listen_port = None;
            for var in container["env"].as_vec().unwrap() {
                let name = var["name"].as_str().unwrap();
                if name.starts_with("GEARSHIFT_") {
                    assert!(known.contains(name), "{path} sets unknown {name}");
                }
                if name.ends_with("_SECRET")
                    || name.ends_with("_KEY")
                    || name.ends_with("_DATABASE_URL")
                {
                    assert!(
                        var["value"].is_badvalue(),
                        "{path}: {name} must come from a Secret"
                    );
                    assert!(
                        !var["valueFrom"]["secretKeyRef"]["name"].is_badvalue(),
                        "{path}: {name}"
                    );
                }
                if name == format!("GEARSHIFT_{}_LISTEN", target.to_uppercase()) {
                    listen_port = Some(port_of(var["value"].as_str().unwrap()));
                }
            }
            assert_eq!(
                listen_port,
                Some(port_number),
                "{path}: the container listens where its port says"
            );
            for (probe, path_expected) in
                [("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")]
            {
                let get = &container[probe]["httpGet"];
                assert_eq!(get["path"].as_str(), Some(path_expected), "{path} {probe}");
                assert_eq!(get["port"].as_str(), Some(port_name), "{path} {probe}");
            }
            assert!(
                !container["resources"]["requests"]["memory"].is_badvalue(),
                "{path}: resource requests"
            );
            let selector = &doc["spec"]["selector"]["matchLabels"];
            assert!(
                services.iter().any(|s| s["spec"]["selector"] == *selector
                    && s["spec"]["ports"][0]["targetPort"].as_str() == Some(port_name)),
                "{path}: a Service selects this Deployment's pods on its port"
            );
        }
    }
    assert_eq!(
        deployments,
        targets().len() - 1,
        "one Deployment per target (all but `all`)"
    );
}

#[test]
fn readme_configuration_table_lists_exactly_the_variables() {
    let readme = std::fs::read_to_string("README.md").unwrap();
    let table: BTreeSet<String> = readme
        .lines()
        .filter(|l| l.starts_with("| `GEARSHIFT_"))
        .filter_map(|l| l.split('`').nth(1).map(str::to_string))
        .collect();
    assert_eq!(
        table,
        known_env(),
        "README configuration table vs `gearshift serve --help`"
    );
}
