//! Where a producer may send a topic (RocketMQ's `topicPublishInfoTable` and
//! `tryToFindTopicPublishInfo`): the topic's own route, fetched on first use and kept fresh
//! by the [`ClientInstance`], or, while the topic has none, the route of the auto-create
//! template (`TBW102`) so that the broker creates the topic on the first send.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use std::time::Instant;

use apogee_protocol::header::PermName;
use parking_lot::RwLock;
use rand::Rng;

use super::ProducerConfig;
use crate::error::ClientError;
use crate::instance::ClientInstance;
use crate::route::TopicRoute;

/// A route derived from the template, used until `until`; then the topic's own route is
/// asked for again.
struct TemplateRoute {
    route: Arc<TopicRoute>,
    until: Instant,
}

/// Per-topic publish state of one producer.
#[derive(Default)]
pub(crate) struct PublishTable {
    templates: RwLock<HashMap<String, TemplateRoute>>,
    /// Round-robin position per topic (`sendWhichQueue`), starting at random.
    counters: RwLock<HashMap<String, Arc<AtomicUsize>>>,
}

impl PublishTable {
    /// The round-robin counter of `topic`.
    pub(crate) fn counter(&self, topic: &str) -> Arc<AtomicUsize> {
        if let Some(counter) = self.counters.read().get(topic) {
            return counter.clone();
        }
        self.counters
            .write()
            .entry(topic.to_owned())
            .or_insert_with(|| Arc::new(AtomicUsize::new(rand::rng().random_range(0..1024))))
            .clone()
    }

    /// The route to send `topic` by: a fresh template-derived one, else the instance's
    /// cached route, else one fetched now.
    ///
    /// # Errors
    /// As [`PublishTable::refresh`].
    pub(crate) async fn route(
        &self,
        instance: &ClientInstance,
        config: &ProducerConfig,
        topic: &str,
    ) -> Result<Arc<TopicRoute>, ClientError> {
        if let Some(template) = self.templates.read().get(topic)
            && Instant::now() < template.until
        {
            return Ok(template.route.clone());
        }
        if let Some(route) = instance.cached_route(topic)
            && !route.write_queues.is_empty()
        {
            return Ok(route);
        }
        self.refresh(instance, config, topic).await
    }

    /// Asks the name servers for `topic`'s route now; when it has none (or no writable
    /// queue), derives one from the template route.
    ///
    /// # Errors
    /// [`ClientError::TopicNotExist`] when neither the topic nor an inheritable template is
    /// routed; name-server errors.
    pub(crate) async fn refresh(
        &self,
        instance: &ClientInstance,
        config: &ProducerConfig,
        topic: &str,
    ) -> Result<Arc<TopicRoute>, ClientError> {
        match instance.fetch_route(topic).await {
            Ok(route) if !route.write_queues.is_empty() => {
                self.templates.write().remove(topic);
                Ok(route)
            }
            Ok(_) | Err(ClientError::TopicNotExist { .. }) => {
                self.derive_from_template(instance, config, topic).await
            }
            Err(e) => Err(e),
        }
    }

    /// `topic`'s route as RocketMQ derives it from the template: the template's brokers
    /// whose template queues are inheritable (auto-creation is on), each with
    /// min(`defaultTopicQueueNums`, template queues) queues.
    async fn derive_from_template(
        &self,
        instance: &ClientInstance,
        config: &ProducerConfig,
        topic: &str,
    ) -> Result<Arc<TopicRoute>, ClientError> {
        let not_exist = || ClientError::TopicNotExist {
            topic: topic.to_owned(),
        };
        let template = match instance.fetch_route(&config.create_topic_key).await {
            Ok(template) => template,
            Err(ClientError::TopicNotExist { .. }) => return Err(not_exist()),
            Err(e) => return Err(e),
        };
        let mut data = template.raw.clone();
        data.queue_datas.retain(|q| PermName(q.perm).is_inherited());
        for q in &mut data.queue_datas {
            let queues = config.default_topic_queue_nums.min(q.read_queue_nums);
            q.read_queue_nums = queues;
            q.write_queue_nums = queues;
        }
        let route = Arc::new(TopicRoute::from_data(topic, data));
        if route.write_queues.is_empty() {
            return Err(not_exist());
        }
        let until = Instant::now() + instance.config().poll_name_server_interval;
        self.templates.write().insert(
            topic.to_owned(),
            TemplateRoute {
                route: route.clone(),
                until,
            },
        );
        Ok(route)
    }
}
