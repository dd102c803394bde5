import { type FormEvent, useId, useState } from 'react';
import { errorMessage, post } from '../api.ts';

/** "How was your experience?": a 1–5 rating with an optional comment, stored on our server. */
export function Feedback({
  context,
  reference,
  onClose,
}: {
  context: 'activation' | 'chat' | 'general';
  reference?: string;
  onClose?: () => void;
}) {
  const id = useId();
  const [rating, setRating] = useState<number | null>(null);
  const [comment, setComment] = useState('');
  const [sending, setSending] = useState(false);
  const [thanks, setThanks] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  if (thanks) {
    return (
      <div className="feedback feedback-done" role="status">
        <p className="feedback-thanks">{thanks}</p>
        {onClose && (
          <button type="button" className="btn btn-small btn-ghost" onClick={onClose}>
            Close
          </button>
        )}
      </div>
    );
  }

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (rating === null) {
      setError('Pick a rating from 1 to 5 first.');
      return;
    }
    setSending(true);
    setError(null);
    try {
      const result = await post<{ message: string }>('/api/web/feedback', {
        rating,
        context,
        ...(comment.trim() ? { comment: comment.trim() } : {}),
        ...(reference ? { reference } : {}),
      });
      setThanks(result.message || 'Thanks for your feedback!');
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setSending(false);
    }
  };

  return (
    <form className="feedback" onSubmit={submit} aria-labelledby={`${id}-title`}>
      <fieldset>
        <legend id={`${id}-title`} className="feedback-title">
          How was your experience?
        </legend>
        <div className="rating" role="radiogroup" aria-label="Rating from 1 to 5">
          {[1, 2, 3, 4, 5].map((value) => (
            <label key={value} className={`rating-option${rating !== null && value <= rating ? ' is-on' : ''}`}>
              <input
                type="radio"
                name={`${id}-rating`}
                value={value}
                checked={rating === value}
                onChange={() => setRating(value)}
              />
              <span aria-hidden="true">★</span>
              <span className="visually-hidden">
                {value} {value === 1 ? 'star' : 'stars'}
              </span>
            </label>
          ))}
        </div>
      </fieldset>
      <label className="field">
        <span>Comment (optional)</span>
        <textarea value={comment} maxLength={2000} rows={2} onChange={(e) => setComment(e.target.value)} />
      </label>
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      <div className="row">
        <button type="submit" className="btn btn-primary btn-small" disabled={sending}>
          {sending ? 'Sending…' : 'Send feedback'}
        </button>
        {onClose && (
          <button type="button" className="btn btn-small btn-ghost" onClick={onClose}>
            Not now
          </button>
        )}
      </div>
    </form>
  );
}
