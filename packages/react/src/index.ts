/** @sessiond/react: hooks and components on @sessiond/client's stores (issue 16). */
export {};
