//! Send a message and consume it back: `apogee serve` in one terminal, then
//! `cargo run -p apogee-client --example quickstart` (name server from `NAMESRV_ADDR`, or
//! 127.0.0.1:9876).

use std::time::Duration;

use apogee_client::consumer::{ConsumeConcurrentlyStatus, PushConsumer, PushConsumerConfig};
use apogee_client::{ClientConfig, Message, Producer, ProducerConfig};
use tokio::sync::mpsc;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let client = ClientConfig::from_env();

    let producer =
        Producer::with_client_config(ProducerConfig::new("quickstart-producer"), client.clone())?;
    producer.start().await?;
    let message = Message::new("QuickStart", "hello from apogee")
        .with_tags("Greeting")
        .with_keys(["hello-1"]);
    let result = producer.send(message).await?;
    println!("sent: {result}");
    producer.shutdown().await;

    let (tx, mut rx) = mpsc::unbounded_channel();
    let consumer =
        PushConsumer::with_client_config(client, PushConsumerConfig::new("quickstart-consumer"));
    consumer.subscribe("QuickStart", "Greeting")?;
    consumer.register_message_listener_fn(move |messages, _context| {
        for m in messages {
            let _ = tx.send(format!(
                "{} {}",
                m.msg_id(),
                String::from_utf8_lossy(&m.body)
            ));
        }
        ConsumeConcurrentlyStatus::ConsumeSuccess
    });
    consumer.start().await?;
    match tokio::time::timeout(Duration::from_secs(30), rx.recv()).await {
        Ok(Some(line)) => println!("received: {line}"),
        _ => println!("nothing received within 30 s"),
    }
    consumer.shutdown().await?;
    Ok(())
}
