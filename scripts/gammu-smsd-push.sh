#!/usr/bin/env bash
# Pushes SMS received by a GSM modem to Nova SMS (POST /api/v1/supply/sms).
#
# Gammu SMSD — in /etc/gammu-smsdrc:
#     [smsd]
#     RunOnReceive = /opt/nova/gammu-smsd-push.sh
#   SMSD runs the script after each received message with the message in its environment
#   (SMS_MESSAGES, SMS_1_NUMBER, SMS_1_TEXT …, DECODED_PARTS, DECODED_1_TEXT; gammu-smsd-run(7)).
#
# smstools (smsd) — in /etc/smsd.conf:
#     eventhandler = /opt/nova/gammu-smsd-push.sh
#   smsd calls it as `script RECEIVED /var/spool/sms/incoming/FILE`; the file has headers
#   ("From: 4917…") then a blank line then the text. Other events (SENT, FAILED …) are ignored.
#   Set `decode_unicode_text = yes` so UCS-2 messages arrive as UTF-8.
#
# Configuration (environment; SMSD passes its own environment to the script):
#   NOVA_URL              base URL, e.g. https://nova.example.com
#   NOVA_PROVIDER_SECRET  the secret printed by `npm run nova -- provider:create --name …`
#   NOVA_NUMBER           this modem's own number in E.164 (+447700900123): SMSD does not know it
# A non-zero exit (bad secret, server down after retries) is logged by SMSD; the message stays
# in its inbox, so it can be pushed again by hand.
set -euo pipefail

: "${NOVA_URL:?set NOVA_URL (e.g. https://nova.example.com)}"
: "${NOVA_PROVIDER_SECRET:?set NOVA_PROVIDER_SECRET (provider:create prints it)}"
: "${NOVA_NUMBER:?set NOVA_NUMBER to this modem number in E.164}"

json_string() {
  local s=$1
  s=${s//\\/\\\\}
  s=${s//\"/\\\"}
  s=${s//$'\n'/\\n}
  s=${s//$'\r'/\\r}
  s=${s//$'\t'/\\t}
  # Other control characters have no place in an SMS text; drop them rather than send bad JSON.
  s=$(printf '%s' "$s" | tr -d '\000-\010\013\014\016-\037')
  printf '"%s"' "$s"
}

sender=""
text=""
if [[ "${1:-}" == "RECEIVED" && -f "${2:-}" ]]; then
  # smstools: headers, blank line, body.
  in_body=0
  while IFS= read -r line || [[ -n "$line" ]]; do
    line=${line%$'\r'}
    if (( in_body )); then
      text+="${text:+$'\n'}$line"
    elif [[ -z "$line" ]]; then
      in_body=1
    elif [[ "$line" == From:* ]]; then
      sender=${line#From:}
      sender=${sender# }
    fi
  done < "$2"
  # smstools writes the sender without "+"; it is an international number unless it has letters.
  [[ "$sender" =~ ^[0-9]+$ ]] && sender="+$sender"
elif [[ "${1:-}" =~ ^(SENT|FAILED|REPORT|CALL)$ ]]; then
  exit 0
else
  # Gammu SMSD: one multipart message may come as several physical parts.
  sender=${SMS_1_NUMBER:-}
  if [[ "${DECODED_PARTS:-0}" -gt 0 && -n "${DECODED_1_TEXT:-}" ]]; then
    text=$DECODED_1_TEXT
  else
    for ((i = 1; i <= ${SMS_MESSAGES:-0}; i++)); do
      part_var="SMS_${i}_TEXT"
      text+=${!part_var:-}
    done
  fi
fi

if [[ -z "$sender" || -z "$text" ]]; then
  echo "gammu-smsd-push: no sender or text in this message (binary SMS?); nothing pushed" >&2
  exit 0
fi

body="{\"to\":$(json_string "$NOVA_NUMBER"),\"from\":$(json_string "$sender"),\"text\":$(json_string "$text")}"
printf '%s' "$body" | curl --silent --show-error --fail-with-body --max-time 20 \
  --retry 3 --retry-delay 2 --retry-connrefused \
  -H "Authorization: Bearer $NOVA_PROVIDER_SECRET" \
  -H 'Content-Type: application/json' \
  --data-binary @- \
  "${NOVA_URL%/}/api/v1/supply/sms"
echo
