//! KServe v2 inference over HTTP with the binary tensor extension: the request body (a JSON header,
//! then the raw little-endian tensors) and the reply's parsing. No networking here, so it is tested
//! without a server.

use serde::Deserialize;
use serde_json::{Value, json};

/// The HTTP header that says where the JSON part of a binary-extension body ends.
pub const HEADER_LENGTH: &str = "Inference-Header-Content-Length";

/// One FP32 input tensor of a request.
pub struct Input<'a> {
    /// The model's input name.
    pub name: &'a str,
    /// Its shape, batch first.
    pub shape: &'a [usize],
    /// Its values, row-major.
    pub data: &'a [f32],
}

/// Writes an inference request into `body` (cleared first, so its allocation is reused call after
/// call) and returns the JSON header's length for [`HEADER_LENGTH`]. The output comes back binary.
pub fn encode_request(inputs: &[Input], output: &str, body: &mut Vec<u8>) -> usize {
    let header = json!({
        "inputs": inputs.iter().map(|i| json!({
            "name": i.name,
            "shape": i.shape,
            "datatype": "FP32",
            "parameters": { "binary_data_size": i.data.len() * 4 },
        })).collect::<Vec<_>>(),
        "outputs": [{ "name": output, "parameters": { "binary_data": true } }],
    });
    body.clear();
    serde_json::to_writer(&mut *body, &header).expect("a JSON value always serialises");
    let header_len = body.len();
    for input in inputs {
        body.reserve(input.data.len() * 4);
        for x in input.data {
            body.extend_from_slice(&x.to_le_bytes());
        }
    }
    header_len
}

#[derive(Deserialize)]
struct Reply {
    #[serde(default)]
    outputs: Vec<OutputTensor>,
}

#[derive(Deserialize)]
struct OutputTensor {
    name: String,
    datatype: String,
    shape: Vec<i64>,
    #[serde(default)]
    parameters: serde_json::Map<String, Value>,
    /// Present when the server answered in JSON instead of binary.
    #[serde(default)]
    data: Option<Vec<f32>>,
}

/// Finds output `name` in a reply (`header_len`: the [`HEADER_LENGTH`] value, `None` for an all-JSON
/// reply) and writes it to `out`, which must be exactly its size. Errors are plain sentences.
pub fn decode_output(body: &[u8], header_len: Option<usize>, name: &str, out: &mut [f32]) -> Result<(), String> {
    let header_len = header_len.unwrap_or(body.len());
    if header_len > body.len() {
        return Err(format!("the reply is cut short ({} bytes, header says {header_len})", body.len()));
    }
    let reply: Reply = serde_json::from_slice(&body[..header_len])
        .map_err(|e| format!("the reply is not a KServe v2 inference response ({e})"))?;
    let mut offset = header_len;
    for tensor in reply.outputs {
        let size = tensor.parameters.get("binary_data_size").and_then(Value::as_u64).map(|s| s as usize);
        if tensor.name != name {
            offset += size.unwrap_or(0);
            continue;
        }
        if tensor.datatype != "FP32" {
            return Err(format!("output '{name}' is {}, expected FP32", tensor.datatype));
        }
        let elements: i64 = tensor.shape.iter().product();
        if elements != out.len() as i64 {
            return Err(format!("output '{name}' has shape {:?}, expected {} values", tensor.shape, out.len()));
        }
        return match (size, tensor.data) {
            (Some(size), _) => {
                let bytes = body.get(offset..offset + size).filter(|_| size == out.len() * 4).ok_or_else(|| {
                    format!(
                        "output '{name}' holds {size} bytes, expected {} (reply {} bytes)",
                        out.len() * 4,
                        body.len()
                    )
                })?;
                for (o, b) in out.iter_mut().zip(bytes.chunks_exact(4)) {
                    *o = f32::from_le_bytes([b[0], b[1], b[2], b[3]]);
                }
                Ok(())
            }
            (None, Some(data)) if data.len() == out.len() => {
                out.copy_from_slice(&data);
                Ok(())
            }
            _ => Err(format!("output '{name}' carries no data")),
        };
    }
    Err(format!("the reply has no output '{name}'"))
}

/// The server's words from an error reply (`{"error": "..."}`), else the body as text.
pub fn error_message(body: &[u8]) -> String {
    #[derive(Deserialize)]
    struct ErrorReply {
        error: String,
    }
    match serde_json::from_slice::<ErrorReply>(body) {
        Ok(e) => e.error,
        Err(_) => String::from_utf8_lossy(&body[..body.len().min(300)]).trim().to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_is_json_then_raw_little_endian_tensors() {
        let mut body = Vec::new();
        let x = [1.0f32, -2.0];
        let t = [0.5f32];
        let n = encode_request(
            &[Input { name: "audio", shape: &[1, 2, 1], data: &x }, Input { name: "t", shape: &[1, 1], data: &t }],
            "v",
            &mut body,
        );
        let header: Value = serde_json::from_slice(&body[..n]).unwrap();
        assert_eq!(header["inputs"][0]["shape"], json!([1, 2, 1]));
        assert_eq!(header["inputs"][0]["parameters"]["binary_data_size"], 8);
        assert_eq!(header["inputs"][1]["name"], "t");
        assert_eq!(header["outputs"][0]["parameters"]["binary_data"], true);
        assert_eq!(body.len(), n + 12);
        assert_eq!(&body[n..n + 4], &1.0f32.to_le_bytes());
        assert_eq!(&body[n + 8..], &0.5f32.to_le_bytes());
    }

    fn reply(outputs: Value, tensors: &[&[f32]]) -> (Vec<u8>, usize) {
        let mut body = serde_json::to_vec(&json!({ "model_name": "m", "outputs": outputs })).unwrap();
        let n = body.len();
        for t in tensors {
            for x in *t {
                body.extend_from_slice(&x.to_le_bytes());
            }
        }
        (body, n)
    }

    #[test]
    fn binary_output_is_found_by_name_after_others() {
        let (body, n) = reply(
            json!([
                {"name": "other", "datatype": "FP32", "shape": [1], "parameters": {"binary_data_size": 4}},
                {"name": "v", "datatype": "FP32", "shape": [1, 2], "parameters": {"binary_data_size": 8}},
            ]),
            &[&[9.0], &[3.0, -4.5]],
        );
        let mut out = [0.0; 2];
        decode_output(&body, Some(n), "v", &mut out).unwrap();
        assert_eq!(out, [3.0, -4.5]);
    }

    #[test]
    fn json_output_is_accepted() {
        let body = serde_json::to_vec(
            &json!({"outputs": [{"name": "v", "datatype": "FP32", "shape": [2], "data": [1.5, 2.5]}]}),
        )
        .unwrap();
        let mut out = [0.0; 2];
        decode_output(&body, None, "v", &mut out).unwrap();
        assert_eq!(out, [1.5, 2.5]);
    }

    #[test]
    fn bad_replies_are_refused_in_words() {
        let mut out = [0.0; 2];
        let (body, n) = reply(
            json!([{"name": "v", "datatype": "FP32", "shape": [1, 3], "parameters": {"binary_data_size": 12}}]),
            &[&[1.0, 2.0, 3.0]],
        );
        assert!(decode_output(&body, Some(n), "v", &mut out).unwrap_err().contains("shape [1, 3]"));
        assert!(decode_output(&body, Some(n), "w", &mut out).unwrap_err().contains("no output 'w'"));
        let (body, n) = reply(
            json!([{"name": "v", "datatype": "FP16", "shape": [2], "parameters": {"binary_data_size": 4}}]),
            &[&[1.0]],
        );
        assert!(decode_output(&body, Some(n), "v", &mut out).unwrap_err().contains("FP16"));
        let (body, n) = reply(
            json!([{"name": "v", "datatype": "FP32", "shape": [2], "parameters": {"binary_data_size": 8}}]),
            &[&[1.0]],
        );
        assert!(decode_output(&body, Some(n), "v", &mut out).unwrap_err().contains("holds 8 bytes"));
        assert!(decode_output(b"<html>", None, "v", &mut out).unwrap_err().contains("not a KServe"));
        assert!(decode_output(b"{}", Some(99), "v", &mut out).unwrap_err().contains("cut short"));
    }

    #[test]
    fn error_replies_give_the_servers_words() {
        assert_eq!(error_message(br#"{"error":"unknown model"}"#), "unknown model");
        assert_eq!(error_message(b"Bad Gateway\n"), "Bad Gateway");
    }
}
