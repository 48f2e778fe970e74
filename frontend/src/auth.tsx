// Who is signed in (`/api/auth/me`), shared by every page.
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { createContext, useContext, type ReactNode } from "react";
import { ApiError, api, setCsrfToken, unwrap } from "./api/client";

export interface Workspace {
  slug: string;
  name: string;
  role: string;
}

export interface Account {
  user: { id: string; email: string; staff: boolean };
  workspace: string | null;
  workspace_name: string | null;
  role: string | null;
  impersonating: boolean;
  workspaces: Workspace[];
  csrf_token: string;
}

interface Session {
  account: Account | null;
  loading: boolean;
  /** Take a fresh account (after log-in, switching, log-out). */
  accept: (account: Account | null) => void;
}

const SessionContext = createContext<Session>({ account: null, loading: true, accept: () => {} });

export function SessionProvider({ children }: { children: ReactNode }) {
  const client = useQueryClient();
  const me = useQuery({
    queryKey: ["me"],
    queryFn: async (): Promise<Account | null> => {
      try {
        const account = (await unwrap(api.GET("/api/auth/me"))) as unknown as Account;
        setCsrfToken(account.csrf_token);
        return account;
      } catch (error) {
        if (error instanceof ApiError && error.status === 401) return null;
        throw error;
      }
    },
    retry: false,
  });
  const accept = (account: Account | null) => {
    setCsrfToken(account?.csrf_token ?? null);
    // Another workspace (or nobody): nothing cached belongs to it.
    client.removeQueries({ predicate: (query) => query.queryKey[0] !== "me" });
    client.setQueryData(["me"], account);
  };
  return (
    <SessionContext.Provider value={{ account: me.data ?? null, loading: me.isLoading, accept }}>
      {children}
    </SessionContext.Provider>
  );
}

export function useSession(): Session {
  return useContext(SessionContext);
}

/** Whether the signed-in person may change the workspace's set-up. */
export function canManage(account: Account | null): boolean {
  return !!account && !account.impersonating && ["owner", "admin"].includes(account.role ?? "");
}
