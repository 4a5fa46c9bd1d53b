//! Hello world for the cold-start / memory / size baseline. Answers any event with a
//! function-URL (API Gateway v2) shaped response, like the real functions do.
use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use serde_json::{Value, json};

async fn handler(_event: LambdaEvent<Value>) -> Result<Value, Error> {
    Ok(json!({
        "statusCode": 200,
        "headers": { "content-type": "application/json" },
        "body": "{\"message\":\"hello world\"}",
        "isBase64Encoded": false
    }))
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    run(service_fn(handler)).await
}
