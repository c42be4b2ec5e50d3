//! Reading a multipart upload (one file plus small text fields) with size limits and the CSRF
//! check that every state-changing form gets.

use actix_multipart::Multipart;
use actix_web::HttpRequest;
use futures_util::{StreamExt, TryStreamExt};

use crate::app::auth::csrf::{self, CSRF_FIELD};
use crate::error::{AppError, AppResult};

/// The largest text field accepted beside the file.
const MAX_FIELD_BYTES: usize = 4 * 1024;

/// An uploaded file and the form's other fields.
#[derive(Debug)]
pub struct Upload {
    /// The file's base name as the browser sent it (directories stripped); user data.
    pub file_name: String,
    /// The file's content.
    pub bytes: Vec<u8>,
    /// Other fields, CSRF token excepted.
    pub fields: Vec<(String, String)>,
}

impl Upload {
    /// The value of the text field `name` sent beside the file, as typed.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// The last path component of a client-supplied file name (browsers on Windows may send a
/// full path).
pub fn base_name(raw: &str) -> String {
    let name = raw.rsplit(['/', '\\']).next().unwrap_or(raw).trim();
    let name: String = name.chars().filter(|c| !c.is_control()).take(200).collect();
    if name.is_empty() {
        "upload".to_owned()
    } else {
        name
    }
}

/// Reads the upload: the file field `file` up to `limit` bytes (413 beyond), and checks the
/// CSRF token before returning anything.
pub async fn read_upload(
    req: &HttpRequest,
    mut multipart: Multipart,
    limit: usize,
) -> AppResult<Upload> {
    let mut upload = Upload {
        file_name: String::new(),
        bytes: Vec::new(),
        fields: Vec::new(),
    };
    let mut token = None;
    let mut has_file = false;
    while let Some(mut field) = multipart
        .try_next()
        .await
        .map_err(|_| AppError::BadRequest("error.bad_request.body"))?
    {
        let name = field.name().unwrap_or_default().to_owned();
        let file_name = field
            .content_disposition()
            .and_then(|cd| cd.get_filename())
            .map(base_name);
        let cap = if name == "file" {
            limit
        } else {
            MAX_FIELD_BYTES
        };
        let mut data = Vec::new();
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(|_| AppError::BadRequest("error.bad_request.body"))?;
            if data.len() + chunk.len() > cap {
                return Err(AppError::PayloadTooLarge);
            }
            data.extend_from_slice(&chunk);
        }
        if name == "file" {
            has_file = true;
            upload.file_name = file_name.unwrap_or_else(|| "upload".to_owned());
            upload.bytes = data;
        } else {
            let value = String::from_utf8(data)
                .map_err(|_| AppError::BadRequest("error.bad_request.body"))?;
            if name == CSRF_FIELD {
                token = Some(value);
            } else {
                upload.fields.push((name, value));
            }
        }
    }
    csrf::verify(req, token.as_deref())?;
    if !has_file || upload.bytes.is_empty() {
        return Err(AppError::BadRequest("error.upload_missing"));
    }
    Ok(upload)
}

#[cfg(test)]
mod tests {
    use super::base_name;

    #[test]
    fn client_paths_are_reduced_to_the_file_name() {
        assert_eq!(base_name("C:\\Users\\an\\leader.toml"), "leader.toml");
        assert_eq!(base_name("../../etc/passwd"), "passwd");
        assert_eq!(base_name("  "), "upload");
        assert_eq!(base_name("a\u{0}b.toml"), "ab.toml");
    }
}
