//! `apogee cluster` (`mqadmin clusterList`): clusters, brokers, ids, roles, addresses.

use anyhow::Result;
use serde_json::json;

use super::output::Table;
use super::{Connect, print_json, with_admin};

/// Arguments of `apogee cluster`.
#[derive(Debug, clap::Args)]
pub struct ClusterArgs {
    /// The name server and output form.
    #[command(flatten)]
    pub connect: Connect,
}

/// Prints the cluster map.
///
/// # Errors
/// The name server cannot be reached, as a message with a hint.
pub fn run(args: &ClusterArgs) -> Result<()> {
    let view = with_admin(
        &args.connect,
        |admin| async move { admin.cluster_info().await },
    )?;
    if args.connect.json {
        let clusters: Vec<_> = view
            .clusters
            .iter()
            .map(|c| {
                let brokers: Vec<_> = c
                    .brokers
                    .iter()
                    .map(|b| {
                        json!({
                            "brokerName": b.name,
                            "brokerId": b.id,
                            "role": b.role(),
                            "addr": b.addr,
                            "topicCount": b.topic_count,
                        })
                    })
                    .collect();
                json!({"cluster": c.name, "brokers": brokers})
            })
            .collect();
        return print_json(&json!({ "clusters": clusters }));
    }
    if view.clusters.is_empty() {
        eprintln!(
            "no broker is registered with {}; start one (`apogee serve`) or point its \
             namesrvAddr here",
            args.connect.namesrv
        );
        return Ok(());
    }
    let mut table = Table::new(&["CLUSTER", "BROKER", "ID", "ROLE", "ADDRESS", "TOPICS"]);
    for cluster in &view.clusters {
        for b in &cluster.brokers {
            table.row(vec![
                cluster.name.clone(),
                b.name.clone(),
                b.id.to_string(),
                b.role().to_owned(),
                b.addr.clone(),
                b.topic_count
                    .map_or_else(|| "-".to_owned(), |n| n.to_string()),
            ]);
        }
    }
    print!("{}", table.render());
    Ok(())
}
